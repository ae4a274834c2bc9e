"""Plotly figure builders: functions of riskcore result objects, shared by pages and notebooks."""
