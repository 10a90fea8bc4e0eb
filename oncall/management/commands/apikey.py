"""`manage.py apikey create --name … --scopes read,write [--owner alice]` prints a new API key
(once; only its hash is kept). `apikey list` and `apikey revoke <prefix>` manage them."""

from django.core.management.base import BaseCommand, CommandError

from oncall.api_auth import Scope, create_key, revoke
from oncall.models import ApiKey, User


class Command(BaseCommand):
    help = "Create, list or revoke API keys for automation."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="make a key and print it")
        create.add_argument("--name", required=True, help="what uses it, e.g. 'Alertmanager'")
        create.add_argument("--scopes", required=True, help=f"comma-separated: {', '.join(Scope.values)}")
        create.add_argument("--owner", help="username the key acts as (default: the first superuser)")
        create.add_argument("--rate-limit", type=int, help="requests per minute (default 600)")
        sub.add_parser("list", help="list keys (never their secrets)")
        rev = sub.add_parser("revoke", help="revoke a key by its prefix")
        rev.add_argument("prefix")

    def handle(self, *args, action: str, **options):
        if action == "create":
            return self.create(**options)
        if action == "list":
            for key in ApiKey.objects.select_related("owner"):
                state = "revoked" if key.revoked_at else "active"
                used = key.last_used_at.isoformat() if key.last_used_at else "never"
                self.stdout.write(f"{key.prefix}…  {key.name}  owner={key.owner.username}  scopes={','.join(key.scopes)}  {state}  last used {used}")
            return None
        matches = ApiKey.objects.filter(prefix__startswith=options["prefix"], revoked_at=None)
        if matches.count() != 1:
            raise CommandError(f"{matches.count()} active keys start with {options['prefix']!r}; give more of the prefix.")
        revoke(matches)
        self.stdout.write(f"Revoked {options['prefix']}.")
        return None

    def create(self, *, name: str, scopes: str, owner: str | None, rate_limit: int | None, **_):
        wanted = [s.strip() for s in scopes.split(",") if s.strip()]
        unknown = sorted(set(wanted) - set(Scope.values))
        if unknown or not wanted:
            raise CommandError(f"Unknown or missing scopes {unknown or ''}: choose from {', '.join(Scope.values)}.")
        if owner:
            user = User.objects.filter(username=owner, is_active=True).first()
            if user is None:
                raise CommandError(f"No active user {owner!r}.")
        else:
            user = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
            if user is None:
                raise CommandError("No superuser to own the key; pass --owner <username>.")
        key, secret = create_key(name=name, owner=user, scopes=wanted, rate_limit_per_minute=rate_limit)
        self.stderr.write(f"API key {key.name!r} for {user.username} with scopes {','.join(key.scopes)} (shown once):")
        self.stdout.write(secret)
