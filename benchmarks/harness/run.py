"""The harness's one run: `make bench` (BENCH_ARGS="--help" for the options).

For each clinic size it makes sure its own database exists and is seeded (created and
seeded on first use, reused afterwards), measures the reminder scan (first scan from an
empty outbox, then a rescan that finds nothing new), serves the database with gunicorn
(2 sync workers, production-like settings) and then, in ONE interleaved run (round after
round: every target, every size, its raw SQL), times every page and API, the raw psycopg
queries for the rows they show and the plain-Django floor. A bounded concurrency run
(N clients on the chart page for a few seconds per size) ends it. Prints a table of p50s,
ratios and query counts, and writes JSON.
"""

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import psycopg

from harness import databases
from harness.urls import TARGETS, Target, search_params

BENCH_DIR = Path(__file__).resolve().parents[1]
REPO = BENCH_DIR.parent
PER_TARGET_BUDGET_S = 25.0  # stop sampling a slow page at one size once it has used this much
# Parallel runs (one per branch) each use their own cloned databases and ports.
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "tandem_bench")
PORT_BASE = int(os.environ.get("BENCH_PORT_BASE", "18100"))


def label(size: int) -> str:
    return f"{size // 1_000_000}m" if size >= 1_000_000 and size % 1_000_000 == 0 else f"{size // 1000}k"


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def child_env(db: str, app_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(BENCH_DIR), str(app_dir)])
    env["DJANGO_SETTINGS_MODULE"] = "harness.serve_settings"
    env["DATABASE_URL"] = databases.database_url(db)
    env.pop("REDIS_URL", None)
    env["BENCH_STATIC_ROOT"] = str(databases.STATE_DIR / f"static-{app_dir.name}")
    return env


def migrate(db: str, app_dir: Path) -> None:
    """Bring a reused database to the served checkout's schema: the indexes a change adds are
    part of what it is measured with. A database ahead of an older checkout stays as it is."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        check=True,
        cwd=app_dir,
        env=child_env(db, app_dir),
    )


def collectstatic(db: str, app_dir: Path) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        check=True,
        cwd=app_dir,
        env=child_env(db, app_dir),
    )


def at_once(scan: dict[str, Any]) -> str:
    """How many rules the probed checkout's scan ran at once (older ones: one connection)."""
    return f" ({scan.get('workers', 1)} rules at once)"


def python(app_dir: Path) -> str:
    return sys.executable


def ensure_seeded(db: str, size: int, *, reseed: bool) -> None:
    if reseed and databases.is_ours(db):
        databases.drop(db)
    if databases.is_ours(db):
        with psycopg.connect(databases.database_url(db)) as conn:
            try:
                count = conn.execute("SELECT count(*) FROM careplans_patient").fetchone()[0]  # type: ignore[index]
            except psycopg.Error:
                count = 0
        if count == size:
            out(f"{db}: reusing ({count} patients)")
            return
        out(f"{db}: has {count} patients, not {size}: reseeding")
        databases.drop(db)
    databases.create(db)
    subprocess.run(
        [sys.executable, "-m", "harness.seed", "--db", db, "--patients", str(size)],
        check=True,
        cwd=REPO,
        env=child_env(db, REPO),
    )


def probe(db: str, what: str, app_dir: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "harness.probe", "--db", db, what],
        check=True,
        cwd=app_dir,
        env=child_env(db, app_dir),
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def analyze(db: str) -> None:
    """Fresh planner statistics before timing: the scan has just written every reminder and a
    server may run with autovacuum off (this one did, 2026-12-02), and stale statistics of an
    outbox that was empty at seeding made the inbox plan scan every patient per reminder."""
    started = time.perf_counter()
    with psycopg.connect(databases.database_url(db), autocommit=True) as conn:
        conn.execute("ANALYZE")
    out(f"{db}: ANALYZE {time.perf_counter() - started:.1f} s")


class Server:
    def __init__(self, db: str, port: int, app_dir: Path, workers: int) -> None:
        self.port = port
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "clinic.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--timeout",
                "300",
                "--chdir",
                str(app_dir),
                "--log-level",
                "warning",
            ],  # fmt: skip
            env=child_env(db, app_dir),
        )

    def wait(self) -> None:
        for _ in range(300):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/health/")
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"gunicorn on {self.port} did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def get(port: int, path: str, cookie: str) -> dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": cookie, "Accept": "text/html,application/json"})
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    return {
        "seconds": elapsed,
        "status": response.status,
        "bytes": len(body),
        "queries": int(response.getheader("X-Bench-Queries") or -1),
        "db_ms": float(response.getheader("X-Bench-DB-ms") or -1),
    }


def raw_time(conn: psycopg.Connection, statements: tuple[str, ...], params: dict[str, Any]) -> float:
    started = time.perf_counter()
    for sql in statements:
        conn.execute(sql, params).fetchall()
    return time.perf_counter() - started


def p50(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def concurrency(port: int, path: str, cookie: str, clients: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = [0]
    stop_at = time.perf_counter() + seconds
    lock = threading.Lock()

    def client() -> None:
        while time.perf_counter() < stop_at:
            try:
                result = get(port, path, cookie)
                ok = result["status"] == 200
            except OSError:
                ok, result = False, {"seconds": 0.0}
            with lock:
                if ok:
                    latencies.append(result["seconds"])
                else:
                    errors[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {
        "clients": clients,
        "seconds": round(wall, 1),
        "requests": len(latencies),
        "errors": errors[0],
        "throughput_rps": round(len(latencies) / wall, 2),
        "p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(1000 * statistics.quantiles(latencies, n=20)[-1], 1) if len(latencies) >= 20 else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000", help="clinic sizes (patients), comma-separated")
    parser.add_argument("--with-1m", action="store_true", help="add 1,000,000 patients (seeding takes long)")
    parser.add_argument("--app-dir", type=Path, default=REPO, help="checkout to serve (e.g. main for 'before')")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--concurrency-seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="", help="time only targets whose name contains this")
    parser.add_argument("--no-scan", action="store_true")
    parser.add_argument("--scan-only", action="store_true")
    parser.add_argument("--no-per-rule", action="store_true", help="skip timing each scan rule alone")
    parser.add_argument("--reseed", action="store_true", help="drop and reseed the harness databases")
    parser.add_argument("--json", type=Path, default=REPO / "test-artifacts" / "bench.json")
    args = parser.parse_args()
    if args.no_per_rule:
        os.environ["BENCH_PER_RULE"] = "0"
    sizes = [int(s) for s in args.sizes.split(",") if s] + ([1_000_000] if args.with_1m else [])
    app_dir = args.app_dir.resolve()
    dbs = {size: f"{DB_PREFIX}_{label(size)}" for size in sizes}
    report: dict[str, Any] = {
        "app_dir": str(app_dir),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=app_dir, capture_output=True, text=True
        ).stdout.strip(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "load_average_at_start": os.getloadavg(),
        "sizes": sizes,
        "scan": {},
        "targets": [],
        "concurrency": {},
    }
    for size, db in dbs.items():
        ensure_seeded(db, size, reseed=args.reseed)
        migrate(db, app_dir)
    if not args.no_scan:
        for size, db in dbs.items():
            scan = probe(db, "scan", app_dir)
            report["scan"][label(size)] = scan
            runs = ", ".join(f"{r['run']} {r['seconds']:.2f} s ({r['rows']} rows)" for r in scan["runs"])
            out(f"reminder scan at {label(size)}{at_once(scan)}: {runs}")
    if args.scan_only:
        write(report, args.json)
        return
    info = {size: probe(db, "sessions", app_dir) for size, db in dbs.items()}
    for db in dbs.values():
        analyze(db)
    collectstatic(dbs[sizes[0]], app_dir)
    servers = {size: Server(db, PORT_BASE + i, app_dir, args.workers) for i, (size, db) in enumerate(dbs.items())}
    try:
        for server in servers.values():
            server.wait()
        raw_conns = {size: psycopg.connect(databases.database_url(db), autocommit=True) for size, db in dbs.items()}
        targets = [t for t in TARGETS if args.only.lower() in t.name.lower()]
        samples: dict[tuple[str, int], list[dict[str, Any]]] = {(t.name, s): [] for t in targets for s in sizes}
        raws: dict[tuple[str, int], list[float]] = {(t.name, s): [] for t in targets for s in sizes}
        spent: dict[tuple[str, int], float] = {(t.name, s): 0.0 for t in targets for s in sizes}
        for round_no in range(args.rounds):
            order = targets[:]
            random.Random(round_no).shuffle(order)
            for target in order:
                for size in sizes:
                    key = (target.name, size)
                    if samples[key] and spent[key] > PER_TARGET_BUDGET_S:
                        continue
                    meta = info[size]
                    cookie = f"{meta['cookie_name']}={meta['cookies'][target.role]}"
                    chart = meta["patient"]
                    words = target.search.format(mrn=chart["mrn"], born=chart["birth_date"])
                    path = target.path.format(pid=chart["public_id"], q=quote_plus(words))
                    result = get(servers[size].port, path, cookie)
                    samples[key].append(result)
                    spent[key] += result["seconds"]
                    if target.raw:
                        params = {"patient": chart["pk"], "user": meta["user_ids"][target.role]}
                        params |= search_params(words) if target.search else {}
                        raws[key].append(raw_time(raw_conns[size], target.raw, params))
            out(f"round {round_no + 1}/{args.rounds} done")
        for target in targets:
            report["targets"].append(summarise(target, sizes, samples, raws))
        if "chart overview" in {t.name for t in targets} and args.clients:
            for size in sizes:
                meta = info[size]
                cookie = f"{meta['cookie_name']}={meta['cookies']['care_manager']}"
                path = f"/patients/{meta['patient']['public_id']}/"
                result = concurrency(servers[size].port, path, cookie, args.clients, args.concurrency_seconds)
                report["concurrency"][label(size)] = result
    finally:
        for server in servers.values():
            server.stop()
    report["load_average_at_end"] = os.getloadavg()
    print_table(report, sizes)
    write(report, args.json)


def summarise(target: Target, sizes: list[int], samples: dict, raws: dict) -> dict[str, Any]:
    row: dict[str, Any] = {"target": asdict(target) | {"raw": len(target.raw)}, "by_size": {}}
    for size in sizes:
        runs = samples[(target.name, size)]
        raw = p50(raws[(target.name, size)])
        row["by_size"][label(size)] = {
            "samples": len(runs),
            "p50_ms": round(1000 * statistics.median([r["seconds"] for r in runs]), 1) if runs else None,
            "queries": runs[-1]["queries"] if runs else None,
            "db_ms_p50": round(statistics.median([r["db_ms"] for r in runs]), 1) if runs else None,
            "kb": round(runs[-1]["bytes"] / 1024, 1) if runs else None,
            "status": sorted({r["status"] for r in runs}),
            "raw_sql_ms": round(1000 * raw, 2) if raw is not None else None,
        }
    first, last = row["by_size"][label(sizes[0])], row["by_size"][label(sizes[-1])]
    if first["p50_ms"] and last["p50_ms"] and len(sizes) > 1:
        row["ratio"] = round(last["p50_ms"] / first["p50_ms"], 2)
    return row


def print_table(report: dict[str, Any], sizes: list[int]) -> None:
    labels = [label(s) for s in sizes]
    head = f"{'target':<32}" + "".join(f"{'p50 ms ' + lb:>13}{'q':>5}{'KB':>8}{'raw ms':>8}" for lb in labels)
    head += f"{'ratio':>7}  status"
    out()
    out(f"served {report['app_dir']} at {report['commit']}; load average {report['load_average_at_start']}")
    out(head)
    out("-" * len(head))
    for row in report["targets"]:
        line = f"{row['target']['name'][:31]:<32}"
        statuses = set()
        for lb in labels:
            cell = row["by_size"][lb]
            statuses.update(cell["status"])
            raw = f"{cell['raw_sql_ms']:.1f}" if cell["raw_sql_ms"] is not None else "-"
            line += f"{cell['p50_ms'] or 0:>13.1f}{cell['queries']:>5}{cell['kb'] or 0:>8.1f}{raw:>8}"
        ratio = row.get("ratio")
        line += f"{ratio if ratio is not None else '-':>7}  {','.join(map(str, sorted(statuses)))}"
        out(line)
    for lb, scan in report["scan"].items():
        out(
            f"reminder scan {lb}{at_once(scan)}: " + ", ".join(f"{r['run']} {r['seconds']:.2f} s" for r in scan["runs"])
        )
    for lb, conc in report["concurrency"].items():
        out(
            f"chart page, {conc['clients']} clients, {lb}: {conc['throughput_rps']} req/s, p50 {conc['p50_ms']} ms, "
            f"p95 {conc['p95_ms']} ms, {conc['errors']} errors over {conc['seconds']} s"
        )


def write(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2))
    out(f"wrote {path}")


if __name__ == "__main__":
    main()
