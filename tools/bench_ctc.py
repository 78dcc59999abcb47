"""Benchmark the fused Triton CTC loss against torch's CTC (and cuDNN's where eligible).

Usage:
    python tools/bench_ctc.py                       # full grid on the GPU, JSON to tools/benchmarks/
    python tools/bench_ctc.py --T 1000 --V 500 --dtypes fp32 --repeat 50
    python tools/bench_ctc.py --out /tmp/ctc.json   # JSON elsewhere
    python tools/bench_ctc.py --cpu                 # tiny CPU sanity run (Triton interpreter)
    python tools/bench_ctc.py --cpu --B 2 --T 12 16 --V 7 --L 4   # the same at sizes of your choice

Sizes: --B, --T, --L, --V and --D default to the GPU grid below; with --cpu to a tiny case
(B=2, T=12, L=4, V=7, D=16), and any size given on the command line is used as given.
On the GPU the JSON is rewritten after every shape ("complete": false until the last), so a
run stopped part way keeps the rows it measured.

For every shape (B=32, T in {250, 1000}, L=200, V in {32, 500, 5000}, fp32 and bf16) it
times forward + backward with CUDA events (after warmup; median of --repeat runs) and
records the peak extra memory (torch.cuda.max_memory_allocated above the inputs) of:

    torch         log_softmax in fp32 + F.ctc_loss, native CUDA kernel (targets on the GPU)
    cudnn         the same with cuDNN's CTC (fp32 only; every input length = T, L < 256,
                  int32 targets on the CPU): skipped where torch does not take that path
    ours          asr.losses.fused_ctc_loss on the logits
    torch+linear  projection (B,T,D) @ (V,D).T + bias, then `torch`
    ours+linear   asr.losses.fused_linear_ctc_loss (projection fused, chunked over time)

and the memory-bandwidth floor of the loss alone (read the logits once, write their
gradient once, at the copy bandwidth measured on this GPU). Prints a table and writes
JSON with the device name and the torch / triton / CUDA versions.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from asr.losses import fused_ctc_loss, fused_linear_ctc_loss  # noqa: E402

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
METHODS = ("torch", "cudnn", "ours", "torch+linear", "ours+linear")
GPU_SIZES = {"B": 32, "T": [250, 1000], "L": 200, "V": [32, 500, 5000], "D": 256}  # the grid
CPU_SIZES = {"B": 2, "T": [12], "L": 4, "V": [7], "D": 16}  # seconds in Triton's interpreter


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--B", type=int, default=None, help="utterances per batch (GPU 32, --cpu 2)")
    p.add_argument("--T", type=int, nargs="+", default=None, help="frames per utterance (GPU 250 1000, --cpu 12)")
    p.add_argument("--L", type=int, default=None, help="longest target, lengths drawn in [L/2, L] (GPU 200, --cpu 4)")
    p.add_argument("--V", type=int, nargs="+", default=None, help="vocabulary sizes (GPU 32 500 5000, --cpu 7)")
    p.add_argument("--D", type=int, default=None, help="hidden size of the fused-projection rows (GPU 256, --cpu 16)")
    p.add_argument("--dtypes", nargs="+", default=["fp32", "bf16"], choices=list(DTYPES))
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None, help="JSON path (default tools/benchmarks/ctc_<gpu>.json)")
    p.add_argument("--cpu", action="store_true", help="tiny sanity run on the CPU (no timings worth keeping)")
    args = p.parse_args(argv)
    for name, value in (CPU_SIZES if args.cpu else GPU_SIZES).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    for name in ("B", "L", "D"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be >= 1")
    if min(args.T) < 1 or min(args.V) < 2:
        p.error("--T must be >= 1 and --V >= 2 (the blank and one label)")
    return args


# --------------------------------------------------------------------------- inputs


def make_batch(B: int, T: int, L: int, V: int, seed: int, device: str):
    """Padded targets (B, L) without the blank, feasible for T frames; all input lengths T."""
    g = torch.Generator().manual_seed(seed)
    targets = torch.randint(1, V, (B, L), generator=g)
    target_lengths = torch.randint(L // 2, L + 1, (B,), generator=g)
    for b in range(B):  # trim until the labels (plus a blank between repeats) fit in T frames
        while True:
            seq = targets[b, : target_lengths[b]]
            if len(seq) + int((seq[1:] == seq[:-1]).sum()) <= T:
                break
            target_lengths[b] -= 1
    input_lengths = torch.full((B,), T, dtype=torch.long)
    return targets.to(device), input_lengths.to(device), target_lengths.to(device)


def make_case(args, T: int, V: int, dtype: torch.dtype, device: str):
    g = torch.Generator(device="cpu").manual_seed(args.seed)
    targets, il, tl = make_batch(args.B, T, args.L, V, args.seed, device)
    logits = torch.randn(args.B, T, V, generator=g).mul_(3).to(device=device, dtype=dtype).requires_grad_(True)
    hidden = torch.randn(args.B, T, args.D, generator=g).to(device=device, dtype=dtype).requires_grad_(True)
    weight = (torch.randn(V, args.D, generator=g) / args.D**0.5).to(device=device, dtype=dtype).requires_grad_(True)
    bias = torch.zeros(V).to(device=device, dtype=dtype).requires_grad_(True)
    return dict(logits=logits, hidden=hidden, weight=weight, bias=bias, targets=targets, il=il, tl=tl)


# --------------------------------------------------------------------------- methods


def method_fn(name: str, case: dict):
    """A closure computing the (mean-reduced) loss, and the leaves whose .grad it fills."""
    targets, il, tl = case["targets"], case["il"], case["tl"]
    logits, hidden, weight, bias = case["logits"], case["hidden"], case["weight"], case["bias"]

    def torch_ctc(x, tgt=targets, in_len=il, tgt_len=tl):
        log_probs = x.float().log_softmax(-1).transpose(0, 1)  # (T, B, V), torch rejects bf16
        return F.ctc_loss(log_probs, tgt, in_len, tgt_len, blank=0, reduction="mean")

    if name == "torch":
        return (lambda: torch_ctc(logits)), [logits]
    if name == "cudnn":
        flat = torch.cat([targets[b, : tl[b]] for b in range(len(tl))]).cpu().int()
        il_cpu, tl_cpu = il.cpu().int(), tl.cpu().int()
        return (lambda: torch_ctc(logits, flat, il_cpu, tl_cpu)), [logits]
    if name == "ours":
        return (lambda: fused_ctc_loss(logits, targets, il, tl)), [logits]
    if name == "torch+linear":
        return (lambda: torch_ctc(F.linear(hidden, weight, bias))), [hidden, weight, bias]
    if name == "ours+linear":
        return (lambda: fused_linear_ctc_loss(hidden, weight, bias, targets, il, tl)), [hidden, weight, bias]
    raise ValueError(name)


def cudnn_eligible(case: dict, dtype: torch.dtype) -> bool:
    """Whether torch actually dispatches the `cudnn` closure to cuDNN for this case."""
    if dtype != torch.float32 or not torch.backends.cudnn.is_available():
        return False
    fn, _ = method_fn("cudnn", case)
    node, names = fn().grad_fn, []
    while node is not None and len(names) < 8:  # the mean reduction wraps the CTC node
        names.append(type(node).__name__)
        node = next((f for f, _ in node.next_functions if f is not None), None)
    return any("Cudnn" in n for n in names)


def run_once(fn, leaves):
    for leaf in leaves:
        leaf.grad = None
    loss = fn()
    loss.backward()
    return loss


def time_cuda(fn, leaves, warmup: int, repeat: int) -> list[float]:
    for _ in range(warmup):
        run_once(fn, leaves)
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        for leaf in leaves:
            leaf.grad = None
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn().backward()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return times


def peak_memory_mb(fn, leaves) -> float:
    """Peak memory above what is allocated before the call (inputs), in MiB."""
    for leaf in leaves:
        leaf.grad = None
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    run_once(fn, leaves)
    torch.cuda.synchronize()
    return (torch.cuda.max_memory_allocated() - base) / 2**20


def copy_bandwidth_gbps() -> float:
    """Device-to-device copy bandwidth (read + write bytes per second), in GB/s."""
    x = torch.empty(512 * 2**20 // 4, dtype=torch.float32, device="cuda")
    y = torch.empty_like(x)
    for _ in range(3):
        y.copy_(x)
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(20):
        y.copy_(x)
    end.record()
    end.synchronize()
    seconds = start.elapsed_time(end) / 1e3 / 20
    return 2 * x.numel() * 4 / seconds / 1e9


# --------------------------------------------------------------------------- main


def bench_gpu(args, save=None) -> dict:
    """Every shape x dtype x method on the GPU; ``save(report)`` after each shape (partial rows)."""
    device_name = torch.cuda.get_device_name()
    bandwidth = copy_bandwidth_gbps()
    rows: list[dict] = []
    report = dict(
        device=device_name,
        torch=torch.__version__,
        triton=_triton_version(),
        cuda=torch.version.cuda,
        cudnn=torch.backends.cudnn.version(),
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        argv=sys.argv[1:],
        copy_bandwidth_gbps=bandwidth,
        complete=False,
        results=rows,
    )
    for T in args.T:
        for V in args.V:
            for dname in args.dtypes:
                dtype = DTYPES[dname]
                case = make_case(args, T, V, dtype, "cuda")
                ref_loss = None
                logit_bytes = args.B * T * V * torch.finfo(dtype).bits // 8
                floor_ms = 2 * logit_bytes / (bandwidth * 1e9) * 1e3  # read logits + write grad
                for name in args.methods:
                    if name == "cudnn" and not cudnn_eligible(case, dtype):
                        continue
                    fn, leaves = method_fn(name, case)
                    loss = float(run_once(fn, leaves).detach())
                    if name == "torch":
                        ref_loss = loss
                    times = time_cuda(fn, leaves, args.warmup, args.repeat)
                    row = dict(
                        B=args.B, T=T, L=args.L, V=V, D=args.D, dtype=dname, method=name,
                        ms=statistics.median(times), ms_min=min(times), peak_mb=peak_memory_mb(fn, leaves),
                        loss=loss, floor_ms=floor_ms,
                    )  # fmt: skip
                    if ref_loss is not None:
                        row["rel_diff_vs_torch"] = abs(loss - ref_loss) / max(abs(ref_loss), 1e-12)
                    rows.append(row)
                    print_row(row)
                del case
                torch.cuda.empty_cache()
                if save is not None:
                    save({**report, "summary": summarize(rows)})
    return {**report, "complete": True, "summary": summarize(rows)}


def summarize(rows: list[dict]) -> list[dict]:
    """Speed-up of ours over torch, ours/floor, and the fused projection's memory ratio."""
    by_key = {(r["T"], r["V"], r["dtype"], r["method"]): r for r in rows}
    out = []
    for (T, V, dtype, method), r in by_key.items():
        if method != "ours":
            continue
        item = dict(T=T, V=V, dtype=dtype, ours_ms=r["ms"], ours_over_floor=r["ms"] / r["floor_ms"])
        if (base := by_key.get((T, V, dtype, "torch"))) is not None:
            item["speedup_vs_torch"] = base["ms"] / r["ms"]
            item["memory_vs_torch"] = r["peak_mb"] / base["peak_mb"]
        if (base := by_key.get((T, V, dtype, "cudnn"))) is not None:
            item["speedup_vs_cudnn"] = base["ms"] / r["ms"]
        lin, tlin = by_key.get((T, V, dtype, "ours+linear")), by_key.get((T, V, dtype, "torch+linear"))
        if lin is not None and tlin is not None:
            item["linear_speedup_vs_torch"] = tlin["ms"] / lin["ms"]
            item["linear_memory_vs_torch"] = lin["peak_mb"] / tlin["peak_mb"]
        out.append(item)
    return out


HEADER = f"{'T':>5} {'V':>5} {'dtype':>5} {'method':>13} {'ms':>9} {'peak MiB':>9} {'floor ms':>8} {'loss':>10}"


def print_row(row: dict) -> None:
    if not getattr(print_row, "_header", False):
        print(HEADER)
        print_row._header = True
    print(
        f"{row['T']:>5} {row['V']:>5} {row['dtype']:>5} {row['method']:>13} {row['ms']:>9.3f} "
        f"{row.get('peak_mb', float('nan')):>9.1f} {row.get('floor_ms', float('nan')):>8.3f} {row['loss']:>10.4f}",
        flush=True,
    )


def print_summary(summary: list[dict]) -> None:
    print("\nsummary (ours vs torch native; ours+linear vs torch+linear)")
    for s in summary:
        parts = [f"T={s['T']} V={s['V']} {s['dtype']}: ours {s['ours_ms']:.3f} ms = {s['ours_over_floor']:.1f}x floor"]
        if "speedup_vs_torch" in s:
            parts.append(f"{s['speedup_vs_torch']:.1f}x faster, {s['memory_vs_torch']:.2f}x memory")
        if "speedup_vs_cudnn" in s:
            parts.append(f"{s['speedup_vs_cudnn']:.1f}x vs cuDNN")
        if "linear_memory_vs_torch" in s:
            speed, memory = s["linear_speedup_vs_torch"], s["linear_memory_vs_torch"]
            parts.append(f"linear: {speed:.1f}x faster, {memory:.2f}x memory")
        print("  " + "; ".join(parts))


def bench_cpu(args) -> dict:
    """A seconds-long sanity run: every CPU-capable method at the given (tiny) sizes, losses compared."""
    import warnings

    warnings.simplefilter("ignore", RuntimeWarning)  # the interpreter's numpy log(0) = -inf
    rows = []
    for T in args.T:
        for V in args.V:
            for dname in args.dtypes:
                case = make_case(args, T, V, DTYPES[dname], "cpu")
                ref = None
                for name in args.methods:
                    if name == "cudnn":
                        continue
                    fn, leaves = method_fn(name, case)
                    t0 = time.perf_counter()
                    loss = float(run_once(fn, leaves).detach())
                    ms = (time.perf_counter() - t0) * 1e3
                    ref = loss if name in ("torch", "torch+linear") else ref
                    row = dict(B=args.B, T=T, L=args.L, V=V, D=args.D, dtype=dname, method=name, ms=ms, loss=loss)
                    if ref is not None:
                        row["rel_diff_vs_torch"] = abs(loss - ref) / max(abs(ref), 1e-12)
                    rows.append(row)
                    print_row(row)
    worst = max((r.get("rel_diff_vs_torch", 0.0) for r in rows), default=0.0)
    print(f"\nCPU sanity run (Triton interpreter for ours): largest relative loss difference {worst:.2e}")
    return dict(device="cpu", torch=torch.__version__, triton=_triton_version(), complete=True,
                max_rel_diff_vs_torch=worst, results=rows)


def _triton_version() -> str:
    import triton

    return triton.__version__


def default_out(device_name: str) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", device_name.lower()).strip("-")
    return Path(__file__).resolve().parent / "benchmarks" / f"ctc_{slug}.json"


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.cpu:
        report = bench_cpu(args)
        if args.out:
            args.out.write_text(json.dumps(report, indent=2) + "\n")
        return 0
    if not torch.cuda.is_available():
        print("bench_ctc: no CUDA device visible; this benchmark needs a GPU (use --cpu for a sanity run)")
        return 2
    out = args.out or default_out(torch.cuda.get_device_name())
    out.parent.mkdir(parents=True, exist_ok=True)

    def save(report: dict) -> None:
        out.write_text(json.dumps(report, indent=2) + "\n")

    report = bench_gpu(args, save)
    print_summary(report["summary"])
    save(report)
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
