"""What operators and machines watch: `/metrics` for Prometheus (`prometheus.py`, `views.py`) and
`/health` for load balancers and uptime checks (`health.py`)."""
