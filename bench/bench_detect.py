"""Reuse detection at scale: wiretrace against datasketch and rensa on the same corpus.

Each tool runs in its own fresh process (so peak memory is its own) on the very same
``articles.jsonl`` written by ``bench/corpus.py``; the driver scores every tool against
the planted truth and prints one table with the ratios.

- wiretrace: the whole local pipeline (ingest, candidates, alignment, analysis) into a
  fresh DuckDB file; pair precision/recall on every planted pair, passage character F1.
- datasketch MinHashLSH and rensa RMinHashLSH: document-level near-duplicates (word
  5-gram shingles, 128 permutations, Jaccard threshold 0.5); recall on the planted
  near-duplicate kinds (verbatim, flood, spun, shuffled), precision on all reported pairs.

Memory: every process of each tool's tree is sampled once a second (:class:`TreeSampler`:
PSS, RSS and USS per process, by role); a table of peaks per role follows the JSON on
stderr. ``RUSAGE_CHILDREN`` (``peak_mb_workers``) measures the parent more than the
children: a forked worker's RSS counts the parent's pages it shares, and a worker started
by (v)fork + exec keeps the parent's size as its maximum.

Run: ``python bench/corpus.py --articles 10000 --out bench/out/c10k`` then
``python bench/bench_detect.py --corpus bench/out/c10k``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

NEAR_DUP_KINDS = {"verbatim", "flood", "spun", "shuffled"}
_WORD = re.compile(r"\w+")


def _docs(corpus: Path) -> Iterator[tuple[str, str]]:
    with (corpus / "articles.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            yield rec["id"], rec["text"]


def _shingles(text: str, k: int = 5) -> list[str]:
    words = _WORD.findall(text.lower())
    return [" ".join(words[i : i + k]) for i in range(max(1, len(words) - k + 1))]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _StageProgress:
    """Passes progress on to ``inner`` and records what the memory sampler needs: the
    stage being run (written to ``stage_file`` at each ``begin``/``mark``) and, at each
    stage's end, DuckDB's own account of its memory (``duckdb_memory()``, read on a
    second connection so the pipeline's is left alone) beside this process's resident
    memory: the difference is Python's (and the allocators')."""

    def __init__(self, inner: Any, stage_file: Path | None, con: Any) -> None:
        self.inner = inner
        self.stage_file = stage_file
        self.con = con
        self.stage = "start"
        self.duckdb: dict[str, dict[str, object]] = {}

    def mark(self, stage: str) -> None:
        self.stage = stage
        if self.stage_file is not None:
            tmp = self.stage_file.with_suffix(".tmp")
            tmp.write_text(stage, encoding="utf-8")
            tmp.replace(self.stage_file)

    def begin(self, task: str, total: int | None = None, total_bytes: int | None = None) -> None:
        self.mark(task)
        self.inner.begin(task, total=total, total_bytes=total_bytes)

    def advance(self, n: int = 1, nbytes: int = 0, articles: int = 0) -> None:
        self.inner.advance(n, nbytes=nbytes, articles=articles)

    def set_total(self, total: int) -> None:
        self.inner.set_total(total)

    def end(self) -> None:
        self.inner.end()
        self._record()

    def _record(self) -> None:
        try:
            cur = self.con.cursor()
            try:
                rows = cur.execute(
                    "SELECT tag, memory_usage_bytes, temporary_storage_bytes FROM duckdb_memory()"
                ).fetchall()
            finally:
                cur.close()
        except Exception:  # noqa: BLE001 - a diagnostic: never fail the run for it
            return
        used = sum(int(r[1]) for r in rows) / 2**20
        old = self.duckdb.get(self.stage)
        if old is not None and float(old["mb"]) >= used:  # type: ignore[arg-type]
            return
        self.duckdb[self.stage] = {
            "mb": round(used),
            "temp_mb": round(sum(int(r[2]) for r in rows) / 2**20),
            "rss_mb": round(_status_kb(os.getpid(), "VmRSS") / 1024),
            "tags_mb": {str(r[0]): round(int(r[1]) / 2**20) for r in rows if int(r[1]) >= 2**20},
        }


def _status_kb(pid: int, key: str) -> int:
    """``key`` (e.g. ``VmRSS``) of ``/proc/PID/status`` in kB (0 where unreadable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class TreeSampler:
    """Samples the memory of a process and all its descendants once every ``every``
    seconds (Linux ``/proc``), in a thread of the driver, so every worker is seen, not
    only the largest (``RUSAGE_CHILDREN`` keeps only the maximum).

    Per process: RSS, PSS (shared pages divided among the processes sharing them: the
    sum over processes is what the tree really holds; a forked worker's RSS counts the
    parent's pages it only shares) and USS (private pages), from
    ``/proc/PID/smaps_rollup``. Each process gets a role when first seen: ``main``, a
    spawned, forked or forkserver worker, with the stage the main process was in then
    (read from ``stage_file``), e.g. "forked worker (attribute)"."""

    def __init__(self, root: int, stage_file: Path | None, every: float = 1.0) -> None:
        import threading

        self.root = root
        self.stage_file = stage_file
        self.every = every
        self.roles: dict[tuple[int, str], str] = {}  # (pid, start time) -> role
        self.peaks: dict[str, dict[str, Any]] = {}
        self.stages: dict[str, dict[str, float]] = {}
        self.total_peak: dict[str, Any] = {"pss_mb": 0.0}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, object]:
        self._stop.set()
        self._thread.join()
        def rounded(d: dict[str, Any]) -> dict[str, Any]:
            return {k: round(v) if isinstance(v, float) else v for k, v in d.items()
                    if not k.startswith("_")}

        return {
            "samples": self.samples,
            "every_s": self.every,
            "total_pss_peak": rounded(self.total_peak),
            "roles": {role: rounded(p) for role, p in self.peaks.items()},
            "by_stage": {stage: rounded(p) for stage, p in self.stages.items()},
        }

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):  # a diagnostic: never fail the run for it
                self._sample()
            self._stop.wait(self.every)

    def _stage(self) -> str:
        if self.stage_file is None:
            return "-"
        try:
            return self.stage_file.read_text(encoding="utf-8").strip() or "-"
        except OSError:
            return "-"

    def _sample(self) -> None:
        stage = self._stage()
        tree = _descendants(self.root)
        total = 0.0
        worst = 0.0
        main = 0.0
        for pid, (ppid, start) in tree.items():
            mem = _smaps_rollup(pid)
            if mem is None:
                continue
            role = self.roles.get((pid, start))
            if role is None:
                role = self.roles[(pid, start)] = self._role(pid, ppid, tree, stage)
            total += mem["pss"]
            if pid == self.root:
                main = mem["pss"]
            else:
                worst = max(worst, mem["pss"])
            peak = self.peaks.setdefault(
                role, {"processes": 0, "pss_mb": 0.0, "rss_mb": 0.0, "uss_mb": 0.0}
            )
            if (pid, start) not in peak.setdefault("_seen", set()):
                peak["_seen"].add((pid, start))
                peak["processes"] += 1
            if mem["pss"] > peak["pss_mb"]:
                peak.update(pss_mb=mem["pss"], at_stage=stage)
            peak["rss_mb"] = max(peak["rss_mb"], mem["rss"])
            peak["uss_mb"] = max(peak["uss_mb"], mem["uss"])
        if not tree:
            return
        self.samples += 1
        by = self.stages.setdefault(stage, {"main_pss_mb": 0.0, "worker_pss_mb": 0.0,
                                            "total_pss_mb": 0.0, "seconds": 0.0})
        by["main_pss_mb"] = max(by["main_pss_mb"], main)
        by["worker_pss_mb"] = max(by["worker_pss_mb"], worst)
        by["total_pss_mb"] = max(by["total_pss_mb"], total)
        by["seconds"] += self.every
        if total > self.total_peak["pss_mb"]:
            self.total_peak = {"pss_mb": total, "at_stage": stage, "processes": len(tree)}

    def _role(self, pid: int, ppid: int, tree: dict[int, tuple[int, str]], stage: str) -> str:
        if pid == self.root:
            return "main"
        cmd = _cmdline(pid)
        if "resource_tracker" in cmd:
            return "resource tracker"
        if "multiprocessing.forkserver" in cmd and ppid == self.root:
            return "forkserver"
        if "multiprocessing.forkserver" in cmd:
            kind = "forkserver worker"
        elif "spawn_main" in cmd or "multiprocessing.spawn" in cmd:
            kind = "spawned worker"
        elif cmd == _cmdline(self.root):
            kind = "forked worker"
        else:
            kind = Path(cmd.split(" ", 1)[0]).name or "other"
        return f"{kind} ({stage})"


def _descendants(root: int) -> dict[int, tuple[int, str]]:
    """``root`` and every process below it: pid -> (parent pid, start time)."""
    parent: dict[int, tuple[int, str]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        parent[int(stat.parent.name)] = (int(fields[1]), fields[19])
    found: dict[int, tuple[int, str]] = {}
    if root in parent:
        found[root] = parent[root]
    grew = True
    while grew:
        grew = False
        for pid, (ppid, start) in parent.items():
            if ppid in found and pid not in found:
                found[pid] = (ppid, start)
                grew = True
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def _smaps_rollup(pid: int) -> dict[str, float] | None:
    """RSS, PSS and USS (private clean + dirty) of ``pid`` in MB, None when gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    kb: dict[str, int] = {}
    for line in text.splitlines()[1:]:
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            kb[key] = int(parts[0])
    return {
        "rss": kb.get("Rss", 0) / 1024,
        "pss": kb.get("Pss", 0) / 1024,
        "uss": (kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)) / 1024,
    }


def memory_table(memory: dict[str, Any]) -> str:
    """The sampler's per-role peaks as a Markdown table (MB), largest PSS first."""
    lines = [
        "| role | processes | peak PSS | peak RSS | peak USS | PSS peak in stage |",
        "|---|---:|---:|---:|---:|---|",
    ]
    roles = sorted(memory["roles"].items(), key=lambda kv: -kv[1]["pss_mb"])
    for role, p in roles:
        lines.append(
            f"| {role} | {p['processes']} | {p['pss_mb']:,.0f} | {p['rss_mb']:,.0f} | "
            f"{p['uss_mb']:,.0f} | {p.get('at_stage', '-')} |"
        )
    top = memory["total_pss_peak"]
    lines.append(
        f"| **whole tree (sum of PSS)** | {top.get('processes', 0)} | "
        f"{top['pss_mb']:,.0f} | | | {top.get('at_stage', '-')} |"
    )
    return "\n".join(lines)


def run_datasketch(corpus: Path, threshold: float, num_perm: int) -> dict[str, object]:
    from datasketch import MinHash, MinHashLSH

    t0 = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    pairs: set[tuple[str, str]] = set()
    n = 0
    for doc_id, text in _docs(corpus):
        m = MinHash(num_perm=num_perm)
        m.update_batch([s.encode("utf-8") for s in _shingles(text)])
        for other in lsh.query(m):
            pairs.add((min(doc_id, other), max(doc_id, other)))
        lsh.insert(doc_id, m)
        n += 1
    return {"docs": n, "seconds": time.perf_counter() - t0, "pairs": sorted(pairs)}


def run_rensa(corpus: Path, threshold: float, num_perm: int) -> dict[str, object]:
    from rensa import RMinHash, RMinHashLSH

    t0 = time.perf_counter()
    lsh = RMinHashLSH(threshold=threshold, num_perm=num_perm, num_bands=32)
    pairs: set[tuple[str, str]] = set()
    ids: list[str] = []
    for doc_id, text in _docs(corpus):
        m = RMinHash(num_perm=num_perm, seed=42)
        m.update(_shingles(text))
        for other in lsh.query(m):
            other_id = ids[other]
            pairs.add((min(doc_id, other_id), max(doc_id, other_id)))
        lsh.insert(len(ids), m)
        ids.append(doc_id)
    return {"docs": len(ids), "seconds": time.perf_counter() - t0, "pairs": sorted(pairs)}


def run_wiretrace(
    corpus: Path,
    queries: int,
    http: bool,
    workdir: Path | None = None,
    keep: bool = False,
    overrides: Sequence[str] = (),
    stage_file: Path | None = None,
) -> dict[str, object]:
    """The whole local pipeline into a fresh store (ingest, then the incremental update:
    fingerprints, near-duplicate groups, candidates, alignment, attribution), then
    ``check`` latency over ``queries`` stored articles (each checked under its own id,
    so its stored copy is left out) in-process and, when ``http``, over HTTP.
    ``overrides``: ``section.name=value`` settings (as ``--set`` on the command line);
    ``stage_file``: where the stage being run is written (read by :class:`TreeSampler`)."""
    from wiretrace import open_collection
    from wiretrace.progress import make_progress
    from wiretrace.settings import load_settings

    if workdir is not None:
        Path(workdir).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="wt-bench-", dir=workdir))
    db = tmp / "bench.duckdb"
    settings = load_settings(dict(o.split("=", 1) for o in overrides))
    t0 = time.perf_counter()
    col = open_collection(db, settings)
    # bars on a terminal only; stage names and DuckDB's memory at each stage's end recorded
    progress = _StageProgress(make_progress(), stage_file, col.store.connection)
    progress.mark("ingest")
    col.ingest([str(corpus / "articles.jsonl")], progress=progress)
    t_ingest = time.perf_counter() - t0
    progress.mark("update")
    done = col.update(progress)
    t_detect = time.perf_counter()
    progress.mark("stories")
    stories = col.update_stories() if hasattr(col, "update_stories") else None
    progress.mark("results")
    t_total = time.perf_counter() - t0
    pairs = []
    passages: dict[str, list[list[int]]] = {}
    for p in col.pairs():
        pairs.append((min(p.source, p.target), max(p.source, p.target)))
        passages[f"{p.source}|{p.target}"] = [
            [q.source_start, q.source_end, q.target_start, q.target_end] for q in p.passages
        ]
    docs = col.store.count_articles()
    postings = int(col.store.query("SELECT count(*) AS n FROM postings").column("n")[0].as_py())
    near = _near_duplicate_answer(col.store.connection)
    near["seconds"] = t_ingest + sum(
        done.seconds.get(k, 0.0) for k in ("fingerprint", "groups", "candidates")
    )
    col.close()
    progress.mark("check")
    peak_main = _peak_mb()
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result: dict[str, object] = {
        "docs": docs,
        "seconds": t_total,
        "ingest_seconds": t_ingest,
        "stage_seconds": {
            **{k: round(v, 1) for k, v in done.seconds.items()},
            "stories": round(t0 + t_total - t_detect, 1) if stories is not None else None,
        },
        "candidates": done.candidates,
        "aligned": done.aligned,
        "postings": postings,
        "pairs": sorted(set(pairs)),
        "near_dup_stage": near,
        "passages": passages,
        "peak_mb_main": peak_main,
        "peak_mb_workers": peak_children,
        "db_mb": sum(f.stat().st_size for f in tmp.glob("bench.duckdb*")) / 2**20,
        "duckdb_memory": progress.duckdb,
    }
    ids = _query_ids(corpus, queries)
    result["check_python"] = check_latency_python(db, ids)
    if http:
        result["check_http"] = check_latency_http(db, ids)
    if keep:
        result["store"] = str(db)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def _query_ids(corpus: Path, n: int) -> list[str]:
    ids = [doc_id for doc_id, _ in _docs(corpus)]
    return random.Random(1).sample(ids, min(n, len(ids)))


def _percentiles(samples: list[float], cpu: list[float] | None = None) -> dict[str, object]:
    """p50/p95/max of wall seconds ``samples`` (in ms); with ``cpu`` (CPU seconds of the
    answering process per query), the same of CPU time: on a shared machine the wall
    time also counts the waits for a core, the CPU time does not. The load average
    (1 min) at the end is reported beside them."""
    ms = sorted(x * 1000 for x in samples)
    out: dict[str, object] = {
        "queries": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(ms[max(0, int(len(ms) * 0.95) - 1)], 2),
        "max_ms": round(ms[-1], 2),
    }
    if cpu:
        c = sorted(x * 1000 for x in cpu)
        out["cpu_p50_ms"] = round(statistics.median(c), 2)
        out["cpu_p95_ms"] = round(c[max(0, int(len(c) * 0.95) - 1)], 2)
    out["load_avg_1min"] = round(os.getloadavg()[0], 1)
    return out


def check_latency_python(db: Path, ids: list[str]) -> dict[str, object]:
    """``Collection.check`` on a warm read-only collection (one untimed warm-up)."""
    from wiretrace import open_collection

    with open_collection(db, read_only=True) as col:
        articles = col.store.articles_by_id(ids)
        col.check(articles[ids[0]])
        samples: list[float] = []
        cpu: list[float] = []
        found = 0
        for i in ids:
            t, c = time.perf_counter(), time.process_time()
            found += bool(col.check(articles[i]))
            samples.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
    return {**_percentiles(samples, cpu), "with_pairs": found}


def check_latency_http(
    db: Path, ids: list[str], warm_ids: Sequence[str] = ()
) -> dict[str, object]:
    """POST /api/check on a real uvicorn server (``wiretrace serve``; when it does not
    come up, the minimal FastAPI app in ``bench/check_app.py``), one client; the server
    first answers ``warm_ids`` (other stored articles, not measured)."""
    import httpx

    from wiretrace import open_collection

    with open_collection(db, read_only=True) as col:
        articles = col.store.articles_by_id([*ids, *warm_ids])
    port = 8765
    server, which = _start_server(db, port)
    try:
        samples: list[float] = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            def ask(i: str) -> httpx.Response:
                art = articles[i]
                body = {"text": art.text, "title": art.title}
                return client.post("/api/check", json=body)

            ask(ids[0]).raise_for_status()
            for i in warm_ids:
                ask(i).raise_for_status()
            cpu: list[float] = []
            found = 0
            for i in ids:
                c = _cpu_seconds(server.pid)
                t = time.perf_counter()
                response = ask(i)
                samples.append(time.perf_counter() - t)
                cpu.append(_cpu_seconds(server.pid) - c)
                response.raise_for_status()
                found += bool(response.json().get("pairs")) if which == "wiretrace serve" else 0
    finally:
        server.terminate()
        server.wait(timeout=30)
    # the input is posted as text, so (unlike the in-process run) its stored copy is
    # among the stored articles it is checked against
    return {**_percentiles(samples, cpu), "server": which, "with_pairs": found}


def _cpu_seconds(pid: int) -> float:
    """CPU seconds that the threads of process ``pid`` have run so far (Linux
    ``/proc/PID/task/*/schedstat``, nanoseconds; 0 elsewhere). Threads that ended are
    not counted: the server's worker threads live as long as it does."""
    total = 0
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            total += int(stat.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1e9


def _start_server(db: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    for which, cmd in (
        ("wiretrace serve", ["wiretrace", "serve", "--db", str(db), "--port", str(port)]),
        ("bench/check_app.py", [sys.executable, str(Path(__file__).with_name("check_app.py")),
                                "--db", str(db), "--port", str(port)]),
    ):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5).status_code == 200:
                    return proc, which
            except httpx.HTTPError:
                pass
            time.sleep(1)
        proc.terminate()
        proc.wait(timeout=30)
    raise RuntimeError("no HTTP server came up")


def _near_duplicate_answer(con: object) -> dict[str, object]:
    """wiretrace's document-level answer once the candidates stage is done, before any
    alignment: the article pairs its near-duplicate groups and candidate pairs stand
    for. A group (containment of at least ``detect.near_duplicate``) stands for every
    pair of its members; a planned pair (in ``aligned``: group pairs sharing rare
    fingerprints, each group through its representative) for every pair of members of
    its two groups. This is what datasketch's LSH answers, at the point wiretrace has it."""
    rows = con.execute(  # type: ignore[attr-defined]
        "SELECT id, coalesce(grp, article) AS g, article FROM indexed"
    ).fetchall()
    group_of = {str(i): int(g) for i, g, _ in rows}
    members: dict[int, list[str]] = {}
    for i, g, _ in rows:
        members.setdefault(int(g), []).append(str(i))
    found: set[tuple[str, str]] = set()
    for ms in members.values():
        ms.sort()
        found.update((a, b) for k, a in enumerate(ms) for b in ms[k + 1 :])
    planned = con.execute("SELECT source, target FROM aligned").fetchall()  # type: ignore[attr-defined]
    for s, t in planned:
        gs, gt = group_of.get(str(s)), group_of.get(str(t))
        if gs is None or gt is None or gs == gt:
            continue
        for a in members[gs]:
            for b in members[gt]:
                found.add((min(a, b), max(a, b)))
    return {"pairs": sorted(found)}


def _components(truth: list[dict[str, object]]) -> dict[str, str]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for t in truth:
        a, b = find(str(t["source"])), find(str(t["target"]))
        if a != b:
            parent[max(a, b)] = min(a, b)
    return {x: find(x) for x in list(parent)}


def score(
    truth: list[dict[str, object]], result: dict[str, object], near_dup_only: bool
) -> dict[str, float]:
    comp = _components(truth)
    wanted = {
        (min(str(t["source"]), str(t["target"])), max(str(t["source"]), str(t["target"])))
        for t in truth
        if not near_dup_only or t["kind"] in NEAR_DUP_KINDS
    }
    found = {tuple(p) for p in result["pairs"]}  # type: ignore[attr-defined]
    # a reported pair is right when both articles are linked through planted reuse
    right = sum(1 for a, b in found if a in comp and comp[a] == comp.get(b))
    hit = len(wanted & found)
    precision = right / len(found) if found else 1.0
    recall = hit / len(wanted) if wanted else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "reported": len(found)}


def recall_up_to_copies(truth: list[dict[str, object]], result: dict[str, object]) -> float:
    """Recall on the planted near-duplicate pairs where a pair also counts as found when
    the tool reports it with either article replaced by a verbatim copy of it (a planted
    verbatim or flood copy: articles of one text, connected). A spun copy C of B, itself
    a verbatim reprint of A, is C's reuse of A's text as much as of B's: nothing in the
    texts tells which copy C was made from, and wiretrace pairs it with the group's
    origin. The same rule is applied to every tool."""
    copies = _components([t for t in truth if t["kind"] in ("verbatim", "flood")])

    def cls(x: str) -> str:
        return copies.get(x, x)

    found = {tuple(p) for p in result["pairs"]}  # type: ignore[attr-defined]
    linked = {(cls(a), cls(b)) for a, b in found} | {(cls(b), cls(a)) for a, b in found}
    wanted = {
        (min(str(t["source"]), str(t["target"])), max(str(t["source"]), str(t["target"])))
        for t in truth
        if t["kind"] in NEAR_DUP_KINDS
    }
    hit = sum(
        1
        for a, b in wanted
        if (a, b) in found or (cls(a) != cls(b) and (cls(a), cls(b)) in linked)
    )
    return hit / len(wanted) if wanted else 1.0


def passage_char_f1(truth: list[dict[str, object]], result: dict[str, object]) -> float:
    """Character-level F1 over target-side passage characters of the planted pairs."""
    got = result.get("passages", {})
    assert isinstance(got, dict)
    tp = fp = fn = 0
    for t in truth:
        s, g = str(t["source"]), str(t["target"])
        want: set[int] = set()
        for p in t["passages"]:  # type: ignore[attr-defined]
            want.update(range(p[2], p[3]))
        have: set[int] = set()
        for q in got.get(f"{s}|{g}", []):
            have.update(range(q[2], q[3]))
        for q in got.get(f"{g}|{s}", []):
            have.update(range(q[0], q[1]))
        tp += len(want & have)
        fp += len(have - want)
        fn += len(want - have)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return 2 * p * r / (p + r) if p + r else 0.0


def _child(tool: str, corpus: Path, out: Path, args: argparse.Namespace) -> None:
    if tool == "datasketch":
        result = run_datasketch(corpus, args.threshold, args.num_perm)
    elif tool == "rensa":
        result = run_rensa(corpus, args.threshold, args.num_perm)
    else:
        result = run_wiretrace(corpus, args.queries, not args.no_http, args.workdir, args.keep,
                               args.set, args.stage_file)
    result["peak_mb"] = _peak_mb()
    out.write_text(json.dumps(result), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--tools", default="wiretrace,datasketch,rensa")
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--queries", type=int, default=1000, help="check latency queries")
    ap.add_argument("--no-http", action="store_true", help="skip the HTTP check latency")
    ap.add_argument("--workdir", type=Path, default=None, help="where the store is written")
    ap.add_argument("--keep", action="store_true", help="keep wiretrace's store (path printed)")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.NAME=VALUE",
                    help="a wiretrace setting for this run (repeatable), as `wiretrace --set`")
    ap.add_argument("--sample-every", type=float, default=1.0,
                    help="seconds between memory samples of each tool's process tree")
    ap.add_argument("--stage-file", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child, args.corpus, args.child_out, args)
        return 0
    for value in args.set:
        if "=" not in value:
            ap.error(f"--set {value!r}: expected SECTION.NAME=VALUE")
    truth = [json.loads(line) for line in (args.corpus / "truth.jsonl").open(encoding="utf-8")]
    rows = {}
    tables: list[str] = []
    for tool in args.tools.split(","):
        with tempfile.NamedTemporaryFile(suffix=".json") as tmp, \
                tempfile.TemporaryDirectory() as scratch:
            stage_file = Path(scratch) / "stage"
            cmd = [
                sys.executable,
                __file__,
                "--corpus",
                str(args.corpus),
                "--child",
                tool,
                "--child-out",
                tmp.name,
                "--threshold",
                str(args.threshold),
                "--num-perm",
                str(args.num_perm),
                "--queries",
                str(args.queries),
                *(["--no-http"] if args.no_http else []),
                *(["--workdir", str(args.workdir)] if args.workdir else []),
                *(["--keep"] if args.keep else []),
                *(f"--set={value}" for value in args.set),
                "--stage-file",
                str(stage_file),
            ]
            proc = subprocess.Popen(cmd)
            sampler = TreeSampler(proc.pid, stage_file, args.sample_every)
            code = proc.wait()
            memory = sampler.stop()
            if code:  # what memory the failed run had reached is worth seeing too
                print(f"{tool} (failed; memory per role, MB):\n{memory_table(memory)}",
                      file=sys.stderr)
                raise subprocess.CalledProcessError(code, cmd)
            result = json.loads(Path(tmp.name).read_text(encoding="utf-8"))
        row: dict[str, object] = {
            "docs": result["docs"],
            "seconds": round(result["seconds"], 2),
            "docs_per_s": round(result["docs"] / result["seconds"], 1),
            "peak_mb": round(result["peak_mb"], 1),
            "near_dup": {k: round(v, 4) for k, v in score(truth, result, True).items()},
            "near_dup_recall_up_to_copies": round(recall_up_to_copies(truth, result), 4),
        }
        stage = result.get("near_dup_stage")
        if isinstance(stage, dict):
            row["near_dup_stage"] = {
                "seconds": round(float(stage["seconds"]), 2),
                **{k: round(v, 4) for k, v in score(truth, stage, True).items()},
                "recall_up_to_copies": round(recall_up_to_copies(truth, stage), 4),
            }
        row["memory"] = memory
        tables.append(f"{tool} (memory per role, MB):\n{memory_table(memory)}")
        if tool == "wiretrace":
            row["all_pairs"] = {k: round(v, 4) for k, v in score(truth, result, False).items()}
            row["passage_char_f1"] = round(passage_char_f1(truth, result), 4)
            for key in ("ingest_seconds", "stage_seconds", "candidates", "aligned", "postings",
                        "peak_mb_main", "peak_mb_workers", "db_mb", "duckdb_memory",
                        "check_python", "check_http", "store"):
                if key in result:
                    value = result[key]
                    row[key] = round(value, 1) if isinstance(value, float) else value
        rows[tool] = row
    if "wiretrace" in rows:
        base = rows["wiretrace"]["seconds"]
        for row in rows.values():
            row["time_vs_wiretrace"] = round(row["seconds"] / base, 2)  # type: ignore[operator]
    json.dump(rows, sys.stdout, indent=2)
    print()
    for table in tables:  # the same figures, readable, after the JSON
        print(table, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
