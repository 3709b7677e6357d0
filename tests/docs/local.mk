# SPDX-License-Identifier: MIT
# tests/docs/local.mk: the monitoring files in contrib/ against what /metrics exports, and promtool on the rules (one TAP result per check).
TESTS += tests/docs/test_monitoring.py
dist_check_SCRIPTS += tests/docs/test_monitoring.py
EXTRA_DIST += contrib/prometheus/ope-rules.yml \
	contrib/prometheus/ope-rules.test.yml contrib/grafana/ope-dashboard.json
