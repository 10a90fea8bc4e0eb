"""Demo data for a fresh Vigil (`manage.py seed_demo`): the catalogue of people, teams, services and
on-call set-up, and the incident stories replayed on top of it."""
