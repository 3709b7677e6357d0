%%% SPDX-License-Identifier: MIT
%%% mod_ope_drain: lets an external component (XEP-0114) ask ejabberd to stop
%%% routing to its own connection before it closes, so a planned stop loses
%%% no stanza.
%%%
%%% ejabberd spreads a component domain's stanzas over every connection that
%%% authenticated for it. A component that closes its stream loses what was
%%% already routed to it. With this module loaded, the component first sends
%%%
%%%   <iq type='set' id='...' from='ope.example.org' to='example.org'>
%%%     <unroute xmlns='urn:xmpp:ope:drain:0'/></iq>
%%%
%%% on the connection it is about to close. ejabberd_service runs the
%%% component_send_packet hook inside that connection's own process, so
%%% unregister_route(Domain, self()) removes exactly this connection's route
%%% and no other. The answer goes back on the same stream (the route to the
%%% component may be gone). The component then answers what is still in
%%% flight and closes once quiet.
%%%
%%% Install: erlc -I <ejabberd include dir> -I <p1_xmpp include dir> this file,
%%% put the .beam on ejabberd's code path (e.g. -pa DIR in ERL_OPTIONS), and
%%% list it under modules: as  mod_ope_drain: {}  (no options).
-module(mod_ope_drain).
-behaviour(gen_mod).

-export([start/2, stop/1, reload/3, depends/2, mod_options/1, mod_doc/0]).
-export([component_send_packet/1]).

-include("logger.hrl").
-include("xmpp.hrl").

-define(NS_DRAIN, <<"urn:xmpp:ope:drain:0">>).

start(_Host, _Opts) ->
    %% A global hook: ejabberd_service runs it without a host.
    ejabberd_hooks:add(component_send_packet, ?MODULE,
		       component_send_packet, 50),
    ok.

stop(_Host) ->
    case gen_mod:is_loaded_elsewhere(_Host, ?MODULE) of
	true -> ok;
	false ->
	    ejabberd_hooks:delete(component_send_packet, ?MODULE,
				  component_send_packet, 50)
    end,
    ok.

reload(_Host, _NewOpts, _OldOpts) ->
    ok.

depends(_Host, _Opts) ->
    [].

mod_options(_Host) ->
    [].

mod_doc() ->
    #{desc => ["Lets an external component remove its own connection's "
	       "route before closing (ope's drain on SIGTERM)."]}.

%% Runs in the component connection's process for every stanza it sends.
component_send_packet({#iq{type = set, sub_els = [El]} = IQ, State} = Acc) ->
    case xmpp:get_ns(El) of
	?NS_DRAIN -> unroute(IQ, State);
	_ -> Acc
    end;
component_send_packet(Acc) ->
    Acc.

unroute(#iq{from = From} = IQ, State) ->
    Domain = From#jid.lserver,
    ejabberd_router:unregister_route(Domain, self()),
    ?INFO_MSG("Component connection ~p for ~ts asked to be unrouted "
	      "before closing; its route is removed", [self(), Domain]),
    %% Answer on this stream: the router may no longer reach it.
    {drop, xmpp_stream_in:send(State, xmpp:make_iq_result(IQ))}.
