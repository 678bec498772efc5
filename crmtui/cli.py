"""The `crmtui` command: the app, the demo, sandboxes, the browser, sync and forget."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmtui import __version__, locations
from crmtui.start import starting_app
from crmtui.text import clean

if TYPE_CHECKING:
    from textual.app import App

    from crmtui.config import Config
    from crmtui.service import Crm


def build_parser() -> argparse.ArgumentParser:
    from crmtui import sandbox

    parser = argparse.ArgumentParser(
        prog="crmtui",
        description="A keyboard-first terminal app for your CRM: browse, search and edit "
        "Freshsales, SalesSeek, Salesloft, ActiveCampaign and SalesforceIQ, online and offline.",
        epilog="With no command, crmtui opens the profiles in "
        f"{locations.config_file()}. Try `crmtui demo` first: no account, no network.",
    )
    parser.add_argument("--version", action="version", version=f"crmtui {__version__}")
    parser.add_argument("--config", type=Path, help="the config file to use")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="the app on built-in sandboxes of every vendor")
    demo.add_argument("--seed", type=int, default=0, help="seed of the demo data (default 0)")
    demo.add_argument(
        "--vendor",
        action="append",
        type=sandbox_name,
        choices=sorted(sandbox.available()),
        help="only these vendors (in any case: FreshSales is freshsales)",
    )

    box = sub.add_parser("sandbox", help="serve one vendor's sandbox API over HTTP on loopback")
    box.add_argument(
        "vendor",
        type=sandbox_name,
        choices=sorted(sandbox.available()),
        help="the vendor, in any case",
    )
    box.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    box.add_argument("--port", type=int, default=8000)
    box.add_argument("--seed", type=int, default=0, help="seed of the generated data")
    box.add_argument("--scale", type=int, default=1, help="multiply the data (125 ≈ 100k records)")
    box.add_argument("--latency", type=float, default=0.0, help="seconds added to every reply")
    box.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        help="share of replies that fail (429/500/503/drop/malformed)",
    )
    box.add_argument(
        "--no-rate-limit", action="store_true", help="switch off the vendor's rate limit"
    )

    serve = sub.add_parser(
        "serve",
        help="the app in a web browser (textual-serve), on loopback, behind a secret token",
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; others need --allow-remote)",
    )
    serve.add_argument("--port", type=int, default=8566)
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="really listen on a non-loopback --host: your CRM over plain http to the network",
    )
    serve.add_argument(
        "--demo", action="store_true", help="serve the demo instead of your profiles"
    )

    cache = sub.add_parser("cache", help="check the cache file, or salvage a damaged one")
    cache_sub = cache.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    for name, text in (
        ("check", "say whether the cache is sound and how many edits are queued in it"),
        (
            "salvage",
            "keep a damaged cache aside (renamed, never deleted) and recover its queued "
            "edits into a fresh one",
        ),
    ):
        action = cache_sub.add_parser(name, help=text)
        action.add_argument("--db", type=Path, help="the cache file (default: the app's cache)")

    forget = sub.add_parser("forget", help="remove a profile's cached data and stored secret")
    forget.add_argument("profile")

    sync = sub.add_parser(
        "sync",
        help="pull whole kinds into the cache (incremental after the first time, resumable)",
    )
    sync.add_argument("profile", help="a profile of config.toml (with --demo: a vendor)")
    sync.add_argument("kinds", nargs="*", help="kinds to sync, e.g. deal or Deals (default: all)")
    sync.add_argument(
        "--demo", action="store_true", help="sync the vendor's demo sandbox, in-process"
    )
    sync.add_argument("--db", type=Path, help="the cache file (default: the app's cache)")
    return parser


def sandbox_name(typed: str) -> str:
    """A vendor named on the command line, in any case (``FreshSales``): the sandbox's
    own name, or ``typed`` as it is (argparse then lists the choices)."""
    from crmtui import sandbox, vendors

    return vendors.canonical(typed, sandbox.available()) or typed


def main(argv: Sequence[str] | None = None) -> int:
    with starting_app():  # the command line's modules and the app's, collector paused
        args = build_parser().parse_args(argv)
        if args.command in (None, "demo"):
            import crmtui.ui.launch  # noqa: F401
    if args.command == "sandbox":
        return run_sandbox(args)
    if args.command == "demo":
        return run_demo(args.seed, args.vendor)
    if args.command == "serve":
        return run_serve(args)
    if args.command == "forget":
        return run_forget(args.profile, args.config)
    if args.command == "cache":
        return run_cache(args.cache_command, args.db)
    if args.command == "sync":
        return run_sync(args)
    return run_profiles(args.config)


def run_sync(args: argparse.Namespace) -> int:
    """``crmtui sync PROFILE [KIND...]`` / ``crmtui sync --demo VENDOR [KIND...]``.

    The config's warnings first (as the app shows them); a bad config or an unknown
    vendor is one line; an SQLite error while syncing (a page found corrupt) is the
    cache's one line, not a traceback."""
    from crmtui.store import health

    config = None
    if not args.demo and (config := load_config(args.config)) is None:
        return 2
    try:
        crm, profile = open_sync(args.profile, config=config, db=args.db)
    except Exception as exc:  # a bad config, an unknown vendor: one line, no traceback
        print(f"crmtui sync: {clean(exc, multiline=True, limit=None)}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(sync_kinds(crm, profile, args.kinds))
    except Exception as exc:
        error = health.cache_error(exc)
        if error is None:
            raise
        path = args.db or locations.cache_db("demo" if args.demo else "cache")
        say(health.at_run_time(path, error), "crmtui sync")
        return 1


def open_sync(target: str, *, config: Config | None, db: Path | None) -> tuple[Crm, str]:
    """The service for ``crmtui sync`` (``open_crm``) and the profile to sync: the
    config's profile ``target``, or with no config the demo sandbox of vendor ``target``."""
    from crmtui.config import ConfigError
    from crmtui.http import CrmError
    from crmtui.service import open_crm

    if config is None:
        from crmtui.demo import demo_crm
        from crmtui.model import utcnow

        crm, demos = demo_crm(
            vendors=[target], now=utcnow(), store_path=db or locations.cache_db("demo")
        )
        if not demos:
            asyncio.run(crm.close())
            raise CrmError(target, "there is no demo sandbox of that vendor")
        return crm, demos[0].profile.name
    entry = config.profiles.get(target)
    if entry is None:
        raise ConfigError(f"no profile {target!r} in {config.path}")
    announce_upgrade(db or locations.cache_db())
    return open_crm([entry.resolve()], store=db or locations.cache_db()), target


async def sync_kinds(crm: Crm, profile: str, kinds: list[str]) -> int:
    """Sync ``kinds`` of ``profile`` with a progress bar; the service is closed after."""
    from crmtui.http import CrmError
    from crmtui.service.sync import SyncProgress

    def show(report: SyncProgress) -> None:
        if report.plan is not None:
            print(report.plan.describe(), flush=True)
        end = "\n" if report.done else ""
        print(f"\r{report.bar()}\x1b[K", end=end, flush=True)

    async with crm:
        try:
            results = await crm.sync(profile, kinds or None, show)
            if crm.preparing:
                print("indexing the lists for sorting and filtering…", flush=True)
                await crm.prepared()
        except CrmError as exc:
            print(f"\ncrmtui sync: {clean(exc, multiline=True, limit=None)}", file=sys.stderr)
            return 1
        except (KeyboardInterrupt, asyncio.CancelledError):
            print("\ninterrupted: what was fetched is kept; the next sync continues from there")
            return 130
    failed = [r for r in results if r.error]
    for result in failed:
        print(f"{result.label}: {clean(result.error, multiline=True, limit=None)}", file=sys.stderr)
    return 1 if failed else 0


def run_sandbox(args: argparse.Namespace) -> int:
    from crmtui import sandbox
    from crmtui.http.urls import is_loopback_host
    from crmtui.sandbox.faults import Faults
    from crmtui.sandbox.serve import run

    if not is_loopback_host(args.host):
        print(
            f"crmtui sandbox: {args.host} is not a loopback address; use 127.0.0.1", file=sys.stderr
        )
        return 2
    rate = args.fault_rate / 5
    faults = Faults(
        latency=args.latency,
        rate_429=rate,
        rate_500=rate,
        rate_503=rate,
        rate_drop=rate,
        rate_malformed=rate,
        seed=args.seed,
    )
    app = sandbox.create_app(
        args.vendor,
        seed=args.seed,
        scale=args.scale,
        faults=faults,
        rate_limit=not args.no_rate_limit,
    )
    info = sandbox.info(args.vendor)
    creds = ", ".join(f"{k}={v}" for k, v in {**info.settings, **info.secrets}.items())
    print(f"{args.vendor} sandbox on http://{args.host}:{args.port}{info.base_path}  ({creds})")
    run(app, host=args.host, port=args.port)
    return 0


def run_app(app: App[Any], *, headless: bool = False) -> int:
    """Run a Textual app; its exit status (1 after a crash, whose report shows no data)."""
    app.run(headless=headless)
    return app.return_code or 0


def say(error: BaseException | str, prefix: str = "crmtui") -> None:
    """Print an error to stderr, each of its lines as ``crmtui: ...`` (vendor words in it
    are inert: no escape sequence reaches the terminal)."""
    for line in clean(error, multiline=True, limit=None).splitlines() or [""]:
        print(f"{prefix}: {line}", file=sys.stderr)


def announce_upgrade(path: Path) -> None:
    """Say so before opening a cache that an upgrade of its schema will rewrite: at a
    million records that takes a minute or two, before anything is on screen."""
    from crmtui.store import pending_upgrade

    found = pending_upgrade(path)
    if found is not None:
        say(
            f"upgrading the offline cache {path} (schema {found[0]} to {found[1]}); a large"
            " cache takes a minute or two, and queued edits are kept"
        )


def load_config(path: Path | None) -> Config | None:
    """The config, its warnings printed; None (its errors printed) if it cannot be used."""
    from crmtui.config import Config, ConfigError

    try:
        config = Config.load(path)
    except ConfigError as exc:
        say(exc)
        return None
    for warning in config.warnings:
        say(warning, "crmtui: warning")
    return config


def run_demo(seed: int = 0, only: list[str] | None = None) -> int:
    with starting_app():
        from crmtui.store import CacheUnusable
        from crmtui.ui.launch import demo_app

    try:
        app = demo_app(seed=seed, vendors=only)
    except CacheUnusable as exc:
        say(exc)
        return 1
    except OSError as exc:  # the demo's cache folder: read-only, a file in its place...
        say(f"the demo cannot start its cache in {locations.cache_dir()}: {exc.strerror or exc}")
        return 1
    return run_app(app)


def run_profiles(config_path: Path | None) -> int:
    with starting_app():
        from crmtui.config import ConfigError, how_to
        from crmtui.store import CacheUnusable
        from crmtui.ui.launch import profiles_app

    config = load_config(config_path)
    if config is None:
        return 2
    if not config.profiles:  # nothing to open: how to start, and a failure status
        print(how_to(config.path, exists=config.exists), file=sys.stderr)
        if sys.stdin.isatty() and sys.stderr.isatty():
            print("Open the demo now? [Y/n] ", end="", file=sys.stderr, flush=True)
            try:
                answer = input().strip().lower()
            except (EOFError, KeyboardInterrupt):
                print(file=sys.stderr)
                answer = "n"
            if answer in ("", "y", "yes"):
                return run_demo()
        return 2
    announce_upgrade(locations.cache_db())
    try:
        app = profiles_app(config)
    except ConfigError as exc:
        say(exc)
        return 2
    except CacheUnusable as exc:
        say(exc)
        return 1
    return run_app(app)


def run_serve(args: argparse.Namespace) -> int:
    from crmtui.http.urls import is_loopback_host
    from crmtui.serve import serve

    if not is_loopback_host(args.host) and not args.allow_remote:
        say(
            f"serve: {args.host} is not a loopback address; the app would be open to the "
            "network over plain http. Use --host 127.0.0.1, or add --allow-remote if you "
            "really mean it (anyone who has the printed link can use your CRM)"
        )
        return 2
    if not is_loopback_host(args.host):
        say(
            f"warning: serving on {args.host} over plain http: anyone on the network path "
            "can read the page; prefer an SSH tunnel to 127.0.0.1"
        )
    command = [sys.executable, "-m", "crmtui"]
    if args.config:
        command += ["--config", str(args.config)]
    if args.demo:
        command.append("demo")
    try:
        return serve(command, host=args.host, port=args.port)
    except OSError as exc:  # the port is taken, the address is not this machine's...
        say(f"serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
        return 1


def run_cache(action: str, db: Path | None) -> int:
    from crmtui.store import health

    path = (db or locations.cache_db()).absolute()
    report = health.check(path) if action == "check" else health.salvage(path)
    for line in report.lines:  # queued edits' values: vendor text, printed inert
        print(clean(line, limit=None), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


def run_forget(profile: str, config_path: Path | None) -> int:
    from crmtui.config import keyring_delete
    from crmtui.store import CacheUnusable, Store

    config = load_config(config_path)
    if config is None:
        return 2
    db, wiped = locations.cache_db(), True
    if db.exists():
        try:
            store = Store(db)
        except CacheUnusable as exc:
            say(exc)
            return 1
        try:
            wiped = store.delete_profile(profile)
        except Exception as exc:  # a page found corrupt: the cache's one line
            problem = store.unusable(exc)
            if problem is None:
                raise
            say(problem)
            return 1
        finally:
            store.close()
    removed = []
    entry = config.profiles.get(profile)
    if entry is not None:
        from crmtui import vendors

        for setting in vendors.load(entry.vendor).settings:
            if setting.secret and keyring_delete(f"{profile}:{setting.name}"):
                removed.append(setting.name)
    print(
        f"Forgot the cached data of {profile!r}"
        + (f" and its stored {', '.join(removed)}" if removed else "")
    )
    aside = f"{db.name}.damaged-"  # health.salvage's names
    found = db.parent.iterdir() if db.parent.is_dir() else iter(())
    copies = sorted(
        str(p) for p in found if p.name.startswith(aside) and not p.name.endswith(("-wal", "-shm"))
    )
    if copies:  # never changed by crmtui: the user's to delete
        say(
            f"{len(copies)} damaged copy(ies) of the cache that `crmtui cache salvage` kept "
            f"aside may still hold what {profile!r} had: {', '.join(copies)} (delete them "
            "once nothing in them is needed)"
        )
    if not wiped:
        say(
            f"{db}: another program (a crmtui running?) kept reading the cache, so the "
            f"bytes of what {profile!r} had there may still be in the file (crmtui shows "
            f"none of it): run `crmtui forget {profile}` again once that program is closed"
        )
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
