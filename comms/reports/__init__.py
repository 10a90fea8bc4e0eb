"""Figures that need several apps, the operator dashboard and the scheduled reports: read-only
selectors over the lower apps' tables (DESIGN.md, "Figures")."""
