%%% SPDX-License-Identifier: MIT
%%% mod_ope: one logical component out of several XEP-0114 connections for
%%% one domain on this ejabberd node: a pool, sticky routing by sender,
%%% tracking of unanswered requests, re-routing when a connection dies,
%%% hold while none is connected, one answer per request, and the drain
%%% IQ. The contract is doc/pool-protocol.md; contrib/ejabberd/README.md
%%% is the operator's guide.
%%%
%%% Where it hooks in (ejabberd 23.01):
%%%  - component_connected (run in the connection's process right after
%%%    its route is registered): the connection joins the domain's pool.
%%%  - filter_packet (run by ejabberd_router:route in the routing process,
%%%    before ejabberd picks a route): a stanza for a pooled domain is
%%%    routed here, to the connection rendezvous hashing picks, and the
%%%    router is told to drop it. ejabberd's own choice (random over the
%%%    connections) never happens for a pooled domain.
%%%  - component_send_packet (run in the connection's process for every
%%%    stanza it sends): liveness, answers, the announcement and the
%%%    unroute IQ (both answered on the same stream).
%%%  - erlang:monitor on every connection: a DOWN re-routes what it left
%%%    unanswered. Re-routing waits for DOWN, so an answer from the dead
%%%    connection can never race with the new one.
%%%
%%% State: one process (mod_ope_pool) owns the tables and does joins,
%%% leaves, pings, expiry and the hold; routing and answer matching run
%%% in the callers' processes against ETS (no extra hop per stanza).
%%%
%%% Install: erlc -I <ejabberd include dir> -I <p1_xmpp include dir> this
%%% file, put mod_ope.beam on ejabberd's code path (e.g. -pa DIR in
%%% ERL_OPTIONS of ejabberdctl.cfg) and list it under modules: as
%%% mod_ope: {} (options: mod_options/1 below, README).
-module(mod_ope).
-behaviour(gen_mod).
-behaviour(gen_server).

-export([start/2, stop/1, reload/3, depends/2, mod_options/1,
	 mod_opt_type/1, mod_doc/0]).
-export([filter_packet/1, component_connected/1,
	 component_send_packet/1]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2,
	 terminate/2, code_change/3]).
-export([weight/2, choose/2, info/0]).

-include("logger.hrl").
-include("xmpp.hrl").
-include("ejabberd_router.hrl").

-define(NS_DRAIN, <<"urn:xmpp:ope:drain:0">>).
-define(NS_POOL, <<"urn:xmpp:ope:pool:0">>).
-define(PROC, mod_ope_pool).
%% Tables, all owned by ?PROC.
-define(ROUTES, mod_ope_routes). % {Domain, Version, [{Name, Pid}]} routable
-define(CONNS, mod_ope_conns).   % {Pid, Count, Bytes, LastSeenMs}
-define(TRACK, mod_ope_track).   % {{Domain, LFrom, Id}, Seq, Pid, Domain, Pkt,
                                 %  Bytes, Ms, Sender}
-define(SENDERS, mod_ope_senders). % {{Pid, Sender}, N}: tracked per sender
-define(DONE, mod_ope_done).     % {{Domain, LFrom, Id}, Ms}: answered after
                                 % a re-route
-define(PINGS, mod_ope_pings).   % {Pid, Id, ServerLJID}: outstanding ping
-define(HOLD, mod_ope_hold).     % {Seq, Domain, Pkt, Bytes, Ms}
-define(STATS, mod_ope_stats).   % {Counter, N}
-define(PING_PREFIX, "ope-ping-").

%%%===================================================================
%%% gen_mod
%%%===================================================================
start(Host, Opts) ->
    ejabberd_hooks:add(filter_packet, ?MODULE, filter_packet, 90),
    ejabberd_hooks:add(component_connected, ?MODULE, component_connected, 50),
    ejabberd_hooks:add(component_send_packet, ?MODULE,
		       component_send_packet, 50),
    %% One pool process per node, whichever virtual host starts first
    %% (its options are the node's).
    case whereis(?PROC) of
	undefined ->
	    case gen_mod:start_child(?MODULE, Host, Opts, ?PROC) of
		{ok, _} -> ok;
		{error, {already_started, _}} -> ok;
		Err -> Err
	    end;
	_ -> ok
    end.

stop(Host) ->
    case gen_mod:is_loaded_elsewhere(Host, ?MODULE) of
	true -> ok;
	false ->
	    ejabberd_hooks:delete(filter_packet, ?MODULE, filter_packet, 90),
	    ejabberd_hooks:delete(component_connected, ?MODULE,
				  component_connected, 50),
	    ejabberd_hooks:delete(component_send_packet, ?MODULE,
				  component_send_packet, 50),
	    gen_mod:stop_child(?PROC)
    end,
    ok.

reload(_Host, NewOpts, _OldOpts) ->
    gen_server:cast(?PROC, {opts, NewOpts}).

depends(_Host, _Opts) ->
    [].

mod_opt_type(ping_seconds) -> econf:pos_int();
mod_opt_type(liveness_seconds) -> econf:pos_int();
mod_opt_type(track_max) -> econf:non_neg_int();
mod_opt_type(track_max_bytes) -> econf:non_neg_int();
mod_opt_type(track_per_sender) -> econf:non_neg_int();
mod_opt_type(track_seconds) -> econf:pos_int();
mod_opt_type(hold_seconds) -> econf:non_neg_int();
mod_opt_type(hold_max) -> econf:non_neg_int();
mod_opt_type(hold_max_bytes) -> econf:non_neg_int().

mod_options(_Host) ->
    [{ping_seconds, 5},
     {liveness_seconds, 15},
     {track_max, 10000},
     {track_max_bytes, 16 * 1024 * 1024},
     {track_per_sender, 1000},
     {track_seconds, 300},
     {hold_seconds, 5},
     {hold_max, 10000},
     {hold_max_bytes, 32 * 1024 * 1024}].

mod_doc() ->
    #{desc => ["Pools an external component's connections (ope), routes "
	       "each sender to one of them by rendezvous hashing, and "
	       "re-routes what a dead connection left unanswered. "
	       "See contrib/ejabberd/README.md in ope."]}.

%%%===================================================================
%%% Routing (filter_packet: in the router's caller)
%%%===================================================================
filter_packet(drop) ->
    drop;
filter_packet(Pkt) ->
    case xmpp:get_meta(Pkt, ope_pass, false) of
	true -> Pkt;
	false ->
	    #jid{lserver = Domain} = xmpp:get_to(Pkt),
	    try ets:lookup(?ROUTES, Domain) of
		[] -> Pkt;
		[Route] -> route(Pkt, Route)
	    catch error:badarg -> Pkt   % the module is stopping
	    end
    end.

%% route(Pkt, {Domain, Version, Routable}): Pkt, to let ejabberd route it
%% (another node's connections), or drop once it is routed or held here.
route(Pkt, {Domain, _, []}) ->
    case remote_routes(Domain) of
	true -> Pkt;
	false -> hold(Pkt, Domain), drop
    end;
route(Pkt, {Domain, Version, Routable}) ->
    Pid = cached_choice(Domain, Version, Routable, xmpp:get_from(Pkt)),
    case request_key(Domain, Pkt) of
	undefined ->
	    Pid ! {route, Pkt};
	Key ->
	    send_tracked(Key, Pkt, Domain, Pid)
    end,
    drop.

%% The connection for From's bare JID; the caller's last choice is kept in
%% its process dictionary (one sender's stream sends many requests).
cached_choice(Domain, Version, Routable, From) ->
    Bare = bare(From),
    case get({?MODULE, Domain}) of
	{Version, Bare, Pid} -> Pid;
	_ ->
	    Pid = choose(Bare, Routable),
	    put({?MODULE, Domain}, {Version, Bare, Pid}),
	    Pid
    end.

bare(#jid{luser = U, lserver = S}) ->
    jid:encode({U, S, <<>>});
bare(_) ->
    <<>>.

%% Rendezvous hashing as doc/pool-protocol.md section 3 defines it.
-spec choose(binary(), [{binary(), pid()}]) -> pid().
choose(Bare, [{Name0, Pid0} | Rest]) ->
    {_, _, Pid} =
	lists:foldl(
	  fun({Name, Pid}, {BestW, BestName, _} = Best) ->
		  W = weight(Name, Bare),
		  if W > BestW; W == BestW, Name < BestName -> {W, Name, Pid};
		     true -> Best
		  end
	  end, {weight(Name0, Bare), Name0, Pid0}, Rest),
    Pid.

-spec weight(binary(), binary()) -> non_neg_integer().
weight(Name, Bare) ->
    <<W:32/big-unsigned, _/binary>> =
	crypto:hash(sha, [Name, <<0>>, Bare]),
    W.

%% {Domain, LFrom, Id} for a request (section 4), else undefined.
request_key(_, #message{type = error}) -> undefined;
request_key(D, #message{id = Id, from = From}) -> key(D, From, Id);
request_key(D, #iq{type = T, id = Id, from = From}) when T == get; T == set ->
    key(D, From, Id);
request_key(_, _) -> undefined.

key(Domain, #jid{} = From, Id) when is_binary(Id), Id /= <<>> ->
    {Domain, jid:tolower(From), Id};
key(_, _, _) -> undefined.

%% ETS bytes a tracked or held stanza takes: its heap words (the table
%% copies them) plus about 56 for the row and its key (measured: a
%% 186-byte message, 1,184 bytes of ETS, counted 1,176); erlang:external_size
%% (291 for it) undercounted fourfold.
ets_bytes(Pkt) ->
    (erts_debug:flat_size(Pkt) + 56) * erlang:system_info(wordsize).

send_tracked({_, LFrom, _} = Key, Pkt, Domain, Pid) ->
    Bytes = ets_bytes(Pkt),
    {Max, MaxBytes, PerSender} = persistent_term:get({?MODULE, track_bounds}),
    try ets:update_counter(?CONNS, Pid, [{2, 1}, {3, Bytes}]) of
	[N, B] when N =< Max, B =< MaxBytes ->
	    Sender = jid:remove_resource(LFrom),
	    case ets:update_counter(?SENDERS, {Pid, Sender}, 1,
				    {{Pid, Sender}, 0}) of
		NS when NS =< PerSender ->
		    track(Key, Pkt, Domain, Pid, Bytes, Sender);
		_ ->
		    uncount(Pid, Bytes, Sender),
		    count(untracked_sender),
		    Pid ! {route, Pkt}
	    end;
	_ ->
	    uncount(Pid, Bytes),
	    count(untracked),
	    Pid ! {route, Pkt}
    catch error:badarg ->
	    %% Gone since the lookup: route again over what is left.
	    reroute_one(Pkt, Domain)
    end.

track(Key, Pkt, Domain, Pid, Bytes, Sender) ->
    %% A request re-sent under a key still tracked (a client
    %% reusing an id) replaces the older entry.
    case ets:take(?TRACK, Key) of
	[Old] -> untrack(Old);
	[] -> ok
    end,
    Seq = erlang:unique_integer([monotonic, positive]),
    ets:insert(?TRACK, {Key, Seq, Pid, Domain, Pkt, Bytes, now_ms(),
			Sender}),
    Pid ! {route, Pkt},
    %% The connection may have ended between the lookup and the
    %% insert: the pool deletes its ?CONNS row before it collects its
    %% entries, so exactly one of us takes this one.
    case ets:member(?CONNS, Pid) of
	true -> ok;
	false -> retake(Key)
    end.

retake(Key) ->
    case ets:take(?TRACK, Key) of
	[{_, _, _, Domain, Pkt, _, _, _} = E] ->
	    untrack(E),
	    reroute_one(Pkt, Domain);
	[] -> ok
    end.

%% A tracked entry taken from ?TRACK: its counts go.
untrack({_, _, Pid, _, _, Bytes, _, Sender}) ->
    uncount(Pid, Bytes, Sender).

uncount(Pid, Bytes, Sender) ->
    uncount(Pid, Bytes),
    K = {Pid, Sender},
    try ets:update_counter(?SENDERS, K, -1) of
	N when N =< 0 -> ets:delete_object(?SENDERS, {K, N});
	_ -> ok
    catch error:badarg -> ok
    end.

uncount(Pid, Bytes) ->
    try ets:update_counter(?CONNS, Pid, [{2, -1}, {3, -Bytes}]), ok
    catch error:badarg -> ok
    end.

%% Route Pkt again (re-route, hold release) outside ejabberd_router. In
%% the pool process: a stanza that cannot be routed is logged, and the
%% pool (and what it tracks) lives on.
reroute_one(Pkt, Domain) ->
    try do_reroute(Pkt, Domain)
    catch Class:Reason:St ->
	    ?ERROR_MSG("mod_ope: ~ts: cannot route again ~ts: ~p",
		       [Domain, xmpp:pp(Pkt), {Class, Reason, St}])
    end.

do_reroute(Pkt0, Domain) ->
    Pkt = xmpp:put_meta(Pkt0, ope_rerouted, true),
    case ets:lookup(?ROUTES, Domain) of
	[] -> pass(Pkt);
	[Route] ->
	    case route(Pkt, Route) of
		drop -> ok;
		Pkt1 -> pass(Pkt1)
	    end
    end.

%% Let ejabberd route Pkt as it would without this module.
pass(Pkt) ->
    ejabberd_router:route(xmpp:put_meta(Pkt, ope_pass, true)).

%% Another cluster node has a connection for Domain (ejabberd 23.01 exports
%% no find_routes/1: the router's backend is asked directly).
remote_routes(Domain) ->
    Mod = ejabberd_router:get_backend(),
    case catch Mod:find_routes(Domain) of
	{ok, Rs} ->
	    lists:any(fun(#route{pid = P}) ->
			      is_pid(P) andalso node(P) /= node()
		      end, Rs);
	_ -> false
    end.

%% No connection is routable: hold Pkt (bounded) for the pool to release
%% or bounce.
hold(Pkt, Domain) ->
    Bytes = ets_bytes(Pkt),
    {Max, MaxBytes} = persistent_term:get({?MODULE, hold_bounds}),
    [B] = ets:update_counter(?STATS, hold_bytes, [{2, Bytes}],
			     {hold_bytes, 0}),
    case ets:info(?HOLD, size) < Max andalso B =< MaxBytes of
	true ->
	    Seq = erlang:unique_integer([monotonic, positive]),
	    ets:insert(?HOLD, {Seq, Domain, Pkt, Bytes, now_ms()}),
	    count(held),
	    gen_server:cast(?PROC, {held, Domain});
	false ->
	    ets:update_counter(?STATS, hold_bytes, [{2, -Bytes}]),
	    count(hold_overflow),
	    bounce(Pkt)
    end.

%% As ejabberd_router does for a domain without a route.
bounce(Pkt) ->
    count(bounced),
    ejabberd_s2s:route(Pkt).

count(Counter) ->
    ets:update_counter(?STATS, Counter, 1, {Counter, 0}).

now_ms() ->
    erlang:monotonic_time(millisecond).

%%%===================================================================
%%% The connections' side (run in the connection's process)
%%%===================================================================
component_connected(Domain) ->
    %% Pooled for its first domain only (see the join); the pool reads
    %% this back if it restarts.
    get({?MODULE, domain}) == undefined andalso put({?MODULE, domain}, Domain),
    try gen_server:call(?PROC, {join, Domain, self()}, 10000)
    catch exit:_ -> ok
    end,
    ok.

component_send_packet({Pkt, State} = Acc) ->
    touch(),
    case Pkt of
	#iq{type = set, sub_els = [El]} ->
	    case xmpp:get_ns(El) of
		?NS_DRAIN -> unroute(Pkt, State);
		?NS_POOL -> announce(Pkt, El, State);
		_ -> answer(Acc)
	    end;
	#iq{type = T, id = <<?PING_PREFIX, _/binary>> = Id, to = To}
	  when T == result; T == error ->
	    case my_ping(Id, To) of
		true -> {drop, State};
		false -> answer(Acc)
	    end;
	_ ->
	    answer(Acc)
    end.

%% Any stanza counts as life; the table is written at most every 100 ms.
touch() ->
    Now = now_ms(),
    case get({?MODULE, seen}) of
	T when is_integer(T), Now - T < 100 -> ok;
	_ ->
	    put({?MODULE, seen}, Now),
	    try ets:update_element(?CONNS, self(), {4, Now})
	    catch error:badarg -> false
	    end
    end.

%% The answer to the pool's outstanding ping of this connection, sent to
%% the server.
my_ping(Id, To) ->
    Self = self(),
    try ets:lookup(?PINGS, Self) of
	[{_, Id, Server} = P] when is_record(To, jid) ->
	    case jid:tolower(To) of
		Server -> ets:delete_object(?PINGS, P), true;
		_ -> false
	    end;
	_ -> false
    catch error:badarg -> false
    end.

%% This connection's domain (recorded when it joined).
my_domain(#jid{lserver = S}) ->
    case get({?MODULE, domain}) of
	undefined -> S;
	D -> D
    end.

%% The stanza answers the request tracked under {the connection's domain,
%% its to, its id} and routed to this connection: forget the request; a
%% second answer to a re-routed request is dropped.
answer({Pkt, State} = Acc) ->
    case xmpp:get_id(Pkt) of
	<<>> -> Acc;
	Id ->
	    case {xmpp:get_from(Pkt), xmpp:get_to(Pkt)} of
		{#jid{} = From, #jid{} = To} ->
		    Key = {my_domain(From), jid:tolower(To), Id},
		    Self = self(),
		    try ets:lookup(?TRACK, Key) of
			[{_, Seq, Self, _, Req, _, _, _} = E] ->
			    %% Exactly the entry looked up (a resend may
			    %% have replaced it meanwhile).
			    case ets:select_delete(
				   ?TRACK, [{{Key, Seq, '_', '_', '_', '_', '_',
					      '_'}, [], [true]}]) of
				1 ->
				    untrack(E),
				    case xmpp:get_meta(Req, ope_rerouted,
						       false) of
					true ->
					    ets:insert(?DONE,
						       {Key, now_ms()});
					false -> ok
				    end;
				0 -> ok
			    end,
			    Acc;
			[_] ->
			    %% Routed to another connection.
			    Acc;
			[] ->
			    case ets:member(?DONE, Key) of
				true ->
				    ets:delete(?DONE, Key),
				    count(duplicates),
				    {drop, State};
				false -> Acc
			    end
		    catch error:badarg -> Acc
		    end;
		_ -> Acc
	    end
    end.

%% The drain IQ: no new requests to this connection; its answers still
%% pass, and what it leaves unanswered is re-routed when it closes.
unroute(#iq{from = From} = IQ, State) ->
    Domain = case catch gen_server:call(?PROC, {unroute, self()}, 10000) of
		 {ok, D} -> D;
		 _ -> From#jid.lserver   % not pooled: its own route
	     end,
    ejabberd_router:unregister_route(Domain, self()),
    ?INFO_MSG("mod_ope: ~ts: connection ~p asked to be unrouted before "
	      "closing; no new requests go to it", [Domain, self()]),
    %% Answer on this stream: the router may no longer reach it.
    {drop, xmpp_stream_in:send(State, xmpp:make_iq_result(IQ))}.

%% The announcement (section 2), answered on the same stream.
announce(IQ, El, State) ->
    Name = fxml:get_tag_attr_s(<<"name">>, El),
    Reply = case valid_name(Name) of
		false -> xmpp:make_error(IQ, xmpp:err_bad_request());
		true ->
		    case catch gen_server:call(
				 ?PROC, {announce, self(), Name}, 10000) of
			{ok, Size} ->
			    put({?MODULE, name}, Name),
			    xmpp:make_iq_result(
			      IQ, #xmlel{name = <<"pool">>,
					 attrs = [{<<"xmlns">>, ?NS_POOL},
						  {<<"size">>,
						   integer_to_binary(Size)}]});
			_ -> xmpp:make_error(IQ, xmpp:err_conflict())
		    end
	    end,
    {drop, xmpp_stream_in:send(State, Reply)}.

valid_name(Name) when byte_size(Name) >= 1, byte_size(Name) =< 64 ->
    lists:all(fun(C) -> (C >= $a andalso C =< $z) orelse
			    (C >= $A andalso C =< $Z) orelse
			    (C >= $0 andalso C =< $9) orelse
			    lists:member(C, ".-_:@/")
	      end, binary_to_list(Name));
valid_name(_) ->
    false.

%%%===================================================================
%%% The pool process
%%%===================================================================
-record(conn, {pid :: pid(),
	       domain :: binary(),
	       name :: binary(),
	       routable = true :: boolean(),
	       ping = undefined :: undefined | integer()}).

-record(state, {opts :: map(),
		conns = #{} :: #{pid() => #conn{}},
		next = 1 :: pos_integer(),
		tick :: pos_integer(),
		last_expiry = 0 :: integer()}).

info() ->
    gen_server:call(?PROC, info).

init([_Host, Opts]) ->
    process_flag(trap_exit, true),
    Pub = [named_table, public],
    ets:new(?ROUTES, [set, {read_concurrency, true} | Pub]),
    ets:new(?CONNS, [set, {write_concurrency, true} | Pub]),
    ets:new(?TRACK, [set, {write_concurrency, true} | Pub]),
    ets:new(?SENDERS, [set, {write_concurrency, true} | Pub]),
    ets:new(?PINGS, [set, {write_concurrency, true} | Pub]),
    ets:new(?DONE, [set, {write_concurrency, true} | Pub]),
    ets:new(?HOLD, [ordered_set | Pub]),
    ets:new(?STATS, [set, {write_concurrency, true} | Pub]),
    S = set_opts(Opts, #state{opts = #{}, tick = 1000}),
    erlang:send_after(S#state.tick, self(), tick),
    {ok, rediscover(S)}.

%% After a restart (the tables died with the last pool process): the
%% connections that had joined (their process dictionary says for which
%% domain) and still have a route join again, under the name they had
%% announced. Their tracked requests are lost with the old tables.
rediscover(S) ->
    Routes = try ejabberd_router:get_all_routes()
	     catch _:_ -> []
	     end,
    Mod = ejabberd_router:get_backend(),
    Pids = lists:usort(
	     [P || D <- Routes,
		   {ok, Rs} <- [catch Mod:find_routes(D)],
		   #route{pid = P} <- Rs,
		   is_pid(P), node(P) == node()]),
    lists:foldl(
      fun(Pid, Acc) ->
	      case erlang:process_info(Pid, dictionary) of
		  {dictionary, Dict} ->
		      case proplists:get_value({?MODULE, domain}, Dict) of
			  undefined -> Acc;
			  Domain ->
			      Name = proplists:get_value({?MODULE, name}, Dict),
			      join(Domain, Pid, Name, Acc)
		      end;
		  _ -> Acc
	      end
      end, S, Pids).

set_opts(Opts, S) ->
    O = maps:from_list([{K, gen_mod:get_opt(K, Opts)}
			|| {K, _} <- mod_options(<<>>)]),
    persistent_term:put({?MODULE, track_bounds},
			{maps:get(track_max, O), maps:get(track_max_bytes, O),
			 maps:get(track_per_sender, O)}),
    persistent_term:put({?MODULE, hold_bounds},
			{maps:get(hold_max, O), maps:get(hold_max_bytes, O)}),
    %% Checks often enough to see a silence of ping_seconds within a fifth.
    Tick = max(100, min(1000, maps:get(ping_seconds, O) * 200)),
    S#state{opts = O, tick = Tick}.

opt(K, #state{opts = O}) -> maps:get(K, O).

handle_call({join, Domain, Pid}, _From, S) ->
    {reply, ok, join(Domain, Pid, undefined, S)};
handle_call({announce, Pid, Name}, _From, #state{conns = Cs} = S) ->
    case maps:find(Pid, Cs) of
	{ok, #conn{name = Old, domain = Domain} = C} ->
	    case name_taken(Domain, Name, Pid, Cs) of
		false ->
		    S1 = S#state{conns = Cs#{Pid => C#conn{name = Name}}},
		    publish(Domain, S1),
		    ?INFO_MSG("mod_ope: ~ts: connection ~ts (~p) is instance ~ts",
			      [Domain, Old, Pid, Name]),
		    {reply, {ok, pool_size(Domain, S1)}, S1};
		true ->
		    ?WARNING_MSG("mod_ope: ~ts: connection ~ts (~p) announced "
				 "~ts, which another connection uses; it "
				 "keeps its name", [Domain, Old, Pid, Name]),
		    {reply, conflict, S}
	    end;
	error ->
	    {reply, conflict, S}
    end;
handle_call({unroute, Pid}, _From, #state{conns = Cs} = S) ->
    case maps:find(Pid, Cs) of
	{ok, #conn{domain = Domain} = C} ->
	    S1 = S#state{conns = Cs#{Pid => C#conn{routable = false}}},
	    publish(Domain, S1),
	    {reply, {ok, Domain}, S1};
	error ->
	    {reply, not_pooled, S}
    end;
handle_call(info, _From, S) ->
    Conns = [{C#conn.domain, C#conn.name, C#conn.pid, C#conn.routable,
	      ets:lookup(?CONNS, C#conn.pid)}
	     || C <- maps:values(S#state.conns)],
    {reply, #{conns => Conns,
	      stats => ets:tab2list(?STATS),
	      tracked => ets:info(?TRACK, size),
	      track_memory_words => ets:info(?TRACK, memory),
	      senders => ets:info(?SENDERS, size),
	      held => ets:info(?HOLD, size)}, S};
handle_call(_, _From, S) ->
    {reply, {error, badarg}, S}.

handle_cast({held, Domain}, S) ->
    release(Domain),
    {noreply, S};
handle_cast({opts, Opts}, S) ->
    {noreply, set_opts(Opts, S)};
handle_cast(_, S) ->
    {noreply, S}.

handle_info({'DOWN', _, process, Pid, Reason}, #state{conns = Cs} = S) ->
    case maps:take(Pid, Cs) of
	{#conn{domain = Domain, name = Name}, Cs1} ->
	    S1 = S#state{conns = Cs1},
	    %% Routing stops choosing it, then its entries are collected
	    %% (send_tracked's member check closes the gap between).
	    publish(Domain, S1),
	    ets:delete(?CONNS, Pid),
	    ets:delete(?PINGS, Pid),
	    Left = collect(Pid),
	    ets:match_delete(?SENDERS, {{Pid, '_'}, '_'}),
	    ?INFO_MSG("mod_ope: ~ts: connection ~ts (~p) left the pool (~p); "
		      "~B connections left on this node; re-routing its ~B "
		      "unanswered requests",
		      [Domain, Name, Pid, Reason, pool_size(Domain, S1),
		       length(Left)]),
	    ets:update_counter(?STATS, rerouted, length(Left), {rerouted, 0}),
	    lists:foreach(fun({_, D, Pkt}) -> reroute_one(Pkt, D) end, Left),
	    {noreply, S1};
	error ->
	    {noreply, S}
    end;
handle_info(tick, S) ->
    erlang:send_after(S#state.tick, self(), tick),
    S1 = liveness(S),
    expire_hold(S1),
    {noreply, expire_tracked(S1)};
handle_info(_, S) ->
    {noreply, S}.

%% Stopped or crashed: what is held is bounced, not lost silently.
terminate(_Reason, _S) ->
    Held = ets:tab2list(?HOLD),
    ets:delete_all_objects(?HOLD),
    lists:foreach(fun({_, _, Pkt, _, _}) -> catch bounce(Pkt) end, Held),
    Held /= [] andalso
	?INFO_MSG("mod_ope: stopping: bounced ~B held stanzas",
		  [length(Held)]),
    ok.

%% Pid joins Domain's pool under Name (its announced name, after a
%% restart) or the next free provisional conn-N.
join(Domain, Pid, _, #state{conns = Cs} = S) when is_map_key(Pid, Cs) ->
    %% A listener with several hosts (global_routes) registers the
    %% connection for each: it is pooled for the first one only.
    ?WARNING_MSG("mod_ope: connection ~p also registered ~ts; it is pooled "
		 "for ~ts only", [Pid, Domain, (maps:get(Pid, Cs))#conn.domain]),
    S;
join(Domain, Pid, Name0, #state{conns = Cs, next = N0} = S) ->
    erlang:monitor(process, Pid),
    {Name, N} = case is_binary(Name0) andalso
		    not name_taken(Domain, Name0, Pid, Cs) of
		    true -> {Name0, N0};
		    false -> provisional(Domain, N0, Cs)
		end,
    ets:insert(?CONNS, {Pid, 0, 0, now_ms()}),
    C = #conn{pid = Pid, domain = Domain, name = Name},
    S1 = S#state{conns = Cs#{Pid => C}, next = N},
    publish(Domain, S1),
    ?INFO_MSG("mod_ope: ~ts: connection ~ts (~p) joined the pool "
	      "(~B connections on this node)",
	      [Domain, Name, Pid, pool_size(Domain, S1)]),
    release(Domain),
    S1.

%% conn-N for the first N from Next whose name no connection of Domain
%% has (one may have announced it); and the next N.
provisional(Domain, Next, Cs) ->
    Name = <<"conn-", (integer_to_binary(Next))/binary>>,
    case name_taken(Domain, Name, undefined, Cs) of
	true -> provisional(Domain, Next + 1, Cs);
	false -> {Name, Next + 1}
    end.

name_taken(Domain, Name, Pid, Cs) ->
    lists:any(fun(#conn{pid = P, domain = D, name = Nm}) ->
		      D == Domain andalso Nm == Name andalso P /= Pid
	      end, maps:values(Cs)).

code_change(_OldVsn, S, _Extra) ->
    {ok, S}.

%% The domain's routable connections, for the callers.
publish(Domain, #state{conns = Cs}) ->
    Routable = lists:sort([{N, P} || #conn{pid = P, domain = D, name = N,
					    routable = true}
					 <- maps:values(Cs), D == Domain]),
    ets:insert(?ROUTES, {Domain, erlang:unique_integer(), Routable}).

pool_size(Domain, #state{conns = Cs}) ->
    length([x || #conn{domain = D} <- maps:values(Cs), D == Domain]).

%% Pid's tracked requests, taken from the table, in arrival order.
collect(Pid) ->
    Keys = ets:select(?TRACK, [{{'$1', '_', Pid, '_', '_', '_', '_', '_'},
				[], ['$1']}]),
    Taken = lists:append([ets:take(?TRACK, K) || K <- Keys]),
    [{Seq, D, Pkt} || {_, Seq, _, D, Pkt, _, _, _} <- lists:keysort(2, Taken)].

%% Held stanzas for Domain, in order, if it has a routable connection now.
release(Domain) ->
    case ets:lookup(?ROUTES, Domain) of
	[{_, _, [_ | _]}] ->
	    Held = ets:select(?HOLD, [{{'$1', Domain, '_', '_', '_'},
				       [], ['$1']}]),
	    lists:foreach(
	      fun(Seq) ->
		      case ets:take(?HOLD, Seq) of
			  [{_, _, Pkt, Bytes, _}] ->
			      ets:update_counter(?STATS, hold_bytes,
						 [{2, -Bytes}]),
			      reroute_one(Pkt, Domain);
			  [] -> ok
		      end
	      end, Held),
	    Held /= [] andalso
		?INFO_MSG("mod_ope: ~ts: released ~B held stanzas",
			  [Domain, length(Held)]);
	_ -> ok
    end.

%% Held longer than hold_seconds: bounced.
expire_hold(S) ->
    Cutoff = now_ms() - opt(hold_seconds, S) * 1000,
    Old = ets:select(?HOLD, [{{'$1', '_', '_', '_', '$2'},
			      [{'=<', '$2', Cutoff}], ['$1']}]),
    lists:foreach(
      fun(Seq) ->
	      case ets:take(?HOLD, Seq) of
		  [{_, _, Pkt, Bytes, _}] ->
		      ets:update_counter(?STATS, hold_bytes, [{2, -Bytes}]),
		      bounce(Pkt);
		  [] -> ok
	      end
      end, Old),
    Old /= [] andalso
	?INFO_MSG("mod_ope: bounced ~B stanzas held for ~B s with no "
		  "connection", [length(Old), opt(hold_seconds, S)]).

%% Requests unanswered for track_seconds are forgotten (and counted);
%% answered-after-re-route marks too. The table is scanned every tenth of
%% track_seconds (at least a second apart): a request is forgotten
%% between track_seconds and 1.1 times that.
expire_tracked(#state{last_expiry = Last} = S) ->
    Now = now_ms(),
    TrackMs = opt(track_seconds, S) * 1000,
    case Now - Last >= max(1000, TrackMs div 10) of
	false -> S;
	true ->
	    Cutoff = Now - TrackMs,
	    Old = ets:select(?TRACK, [{{'$1', '$2', '_', '_', '_', '_', '$3',
					'_'},
				       [{'=<', '$3', Cutoff}],
				       [{{'$1', '$2'}}]}]),
	    lists:foreach(
	      fun({K, Seq}) ->
		      case ets:take(?TRACK, K) of
			  [{_, Seq, _, _, _, _, _, _} = E] ->
			      untrack(E), count(expired);
			  [E] -> ets:insert(?TRACK, E);   % replaced meanwhile
			  [] -> ok
		      end
	      end, Old),
	    ets:select_delete(?DONE, [{{'_', '$1'}, [{'=<', '$1', Cutoff}],
				       [true]}]),
	    S#state{last_expiry = Now}
    end.

%% Pings a connection silent for ping_seconds; closes one silent for
%% liveness_seconds while it holds requests or an unanswered ping.
liveness(#state{conns = Cs} = S) ->
    Now = now_ms(),
    PingMs = opt(ping_seconds, S) * 1000,
    DeadMs = opt(liveness_seconds, S) * 1000,
    Cs1 = maps:map(
	    fun(Pid, #conn{domain = Domain, name = Name, ping = Ping} = C) ->
		    case ets:lookup(?CONNS, Pid) of
			[{_, Count, _, Seen}] ->
			    Silent = Now - Seen,
			    Ping1 = if is_integer(Ping), Seen >= Ping -> undefined;
				       true -> Ping
				    end,
			    if Silent >= DeadMs,
			       Count > 0 orelse Ping1 /= undefined ->
				    ?WARNING_MSG(
				       "mod_ope: ~ts: connection ~ts (~p) silent "
				       "for ~B ms with ~B unanswered requests; "
				       "declared dead, closing it",
				       [Domain, Name, Pid, Silent, Count]),
				    count(dead),
				    exit(Pid, kill),
				    C#conn{ping = Ping1};
			       Silent >= PingMs, Ping1 == undefined ->
				    ping(Domain, Pid),
				    C#conn{ping = Now};
			       true ->
				    C#conn{ping = Ping1}
			    end;
			[] -> C
		    end
	    end, Cs),
    S#state{conns = Cs1}.

ping(Domain, Pid) ->
    Server = server_of(Domain),
    Id = <<?PING_PREFIX, (integer_to_binary(
			     erlang:unique_integer([positive])))/binary>>,
    From = jid:make(Server),
    ets:insert(?PINGS, {Pid, Id, jid:tolower(From)}),
    Pid ! {route, #iq{type = get, id = Id, from = From,
		      to = jid:make(Domain), sub_els = [#ping{}]}}.

%% ope.example.org -> example.org (as for the drain IQ); the node's own
%% name when the domain has no dot.
server_of(Domain) ->
    case binary:split(Domain, <<".">>) of
	[_, Parent] when Parent /= <<>> -> Parent;
	_ -> ejabberd_config:get_myname()
    end.
