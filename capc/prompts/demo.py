"""The offline demo: instructions -> replies -> compile -> verify -> repair -> run on PyBullet.

Each instruction starts from the demo scene (the simulator is reset for every run), so what
was verified is exactly the world that is run. Output: one GIF per run, a combined GIF, and a
summary (JSON and text) in the output directory.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, TextIO

from capc.diagnostics import render
from capc.limits import DEFAULT_LIMITS, ResourceLimits
from capc.prompts import demo_script
from capc.prompts.pipeline import audit_compile, compile_instruction
from capc.prompts.provider import Provider
from capc.prompts.repair import ACCEPTING, CompileResult


@dataclass
class DemoStep:
    instruction: str
    result: CompileResult
    outcome: Any = None          # RunOutcome when the policy ran
    gif: str | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        final = self.result.final
        data = {
            "instruction": self.instruction,
            "verdict": final.verdict,
            "repairs": len(self.result.attempts) - 1,
            "attempts": [{"index": a.index, "verdict": a.verdict, "reply": a.code,
                          "diagnostics": [d.to_json() for d in a.diagnostics]} for a in self.result.attempts],
            "policy": final.generated.bundle() if final.generated else final.code,
            "helpers": sorted(final.generated.helpers) if final.generated else [],
            "seconds": round(self.seconds, 3),
        }
        if self.outcome is not None:
            data["run"] = {"status": self.outcome.status, "steps": self.outcome.steps,
                           "sim_time": round(float(self.outcome.sim_time), 3),
                           "monitor_events": len(self.outcome.monitor_events or ())}
            data["animation"] = self.gif
        return data


@dataclass
class DemoReport:
    steps: list[DemoStep] = field(default_factory=list)
    out_dir: str = ""
    animation: str | None = None
    live: bool = False
    drifted: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.result.verdict in ACCEPTING and s.outcome is not None
                   and s.outcome.status == "completed" for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "replies": "live model" if self.live else f"cassette ({demo_script.AUTHORSHIP})",
            "ok": self.ok,
            "animation": self.animation,
            "steps": [s.to_json() for s in self.steps],
            "cassette_drift": self.drifted,
        }


def demo_context(spec=None, limits: ResourceLimits = DEFAULT_LIMITS, any_scene: bool = False):
    """The demo's one verification context: its scene, the limits given (else the defaults)."""
    from capc.safety.context import VerificationContext
    from capc.safety.spec import default_spec

    return VerificationContext(spec or default_spec(), demo_script.SCENE, any_scene, limits=limits)


def compile_demo(provider: Provider, *, quiet: bool = False, spec=None,
                 limits: ResourceLimits = DEFAULT_LIMITS) -> list[CompileResult]:
    """The compile stage alone (used to rebuild the cassette)."""
    context = demo_context(spec, limits)
    return [compile_instruction(text, provider, context=context) for text in demo_script.INSTRUCTIONS]


def run_demo(provider: Provider, out_dir: str, *, live: bool = False, backend: str = "sim",
             limits: ResourceLimits = DEFAULT_LIMITS, out: TextIO,
             execute: Callable[..., Any] | None = None, spec=None, any_scene: bool = False,
             audit_db: str | None = None) -> DemoReport:
    from capc.runtime.execute import RunConfig  # `execute` (a stand-in, or the runtime's) is called with one

    if execute is None:
        from capc.runtime.execute import execute
    context = demo_context(spec, limits, any_scene)
    spec, scene = context.spec, context.scene
    os.makedirs(out_dir, exist_ok=True)
    report = DemoReport(out_dir=out_dir, live=live)

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    if live:
        say(f"capc demo --live: replies come from {provider.model} via {provider.name}.")
    else:
        say("capc demo: offline. The model replies are replayed from a cassette shipped with capc;")
        say(f"they were {demo_script.AUTHORSHIP}.")
    say("scene: " + ", ".join(f"{o.name} at ({o.position[0]:.2f}, {o.position[1]:.2f})" for o in scene.objects))
    for number, instruction in enumerate(demo_script.INSTRUCTIONS, start=1):
        start = time.monotonic()
        say(f"\n[{number}/{len(demo_script.INSTRUCTIONS)}] instruction: {instruction}")
        result = compile_instruction(instruction, provider, context=context)
        step = DemoStep(instruction, result)
        report.steps.append(step)
        for attempt in result.attempts:
            label = "reply" if attempt.index == 0 else f"repair {attempt.index}"
            say(f"  {label}:")
            say("    " + attempt.code.replace("\n", "\n    "))
            if attempt.generated is not None and attempt.generated.helpers:
                say("  generated and checked with it: " + ", ".join(
                    f"{name} ({file})" for name, (_, file) in attempt.generated.helpers.items()))
            say(f"  verdict: {attempt.verdict}")
            if attempt.verdict == "rejected" and attempt.diagnostics:
                first = attempt.diagnostics[0]
                say("  " + render(first, attempt.sources.get(first.span.file) if first.span else None)
                    .replace("\n", "\n  "))
                if len(attempt.diagnostics) > 1:
                    say(f"  (and {len(attempt.diagnostics) - 1} more finding(s) of the same call; all in summary.txt)")
                say("  -> the diagnostics and the counterexample go back to the model")
        outcome = None
        if result.verdict in ACCEPTING:
            gif = os.path.join(out_dir, f"step{number}.gif")
            config = RunConfig(backend=backend, limits=limits, record=gif if backend == "sim" else None,
                               guards=getattr(result.final.report, "guards", None),
                               verified_scene=scene if context.mode == "scene" else None)
            outcome = execute(result.final.generated.program, scene, spec, config)
            step.outcome = outcome
            step.gif = gif if backend == "sim" and os.path.exists(gif) else None
            for said in getattr(outcome, "said", None) or ():
                say(f"  robot says: {said}")
            events = len(outcome.monitor_events or ())
            say(f"  ran on the {backend} backend: {outcome.status}, {float(outcome.sim_time):.1f} s robot time"
                + (f", {events} monitor event(s)" if events else ""))
        step.seconds = time.monotonic() - start
        audit_compile("demo", result, provider, context=context,
                      params={"demo_step": number, "live": live}, outcome=outcome, audit_db=audit_db)
    report.drifted = list(getattr(provider, "drifted", []))
    if report.drifted:
        say(f"\nnote: {len(report.drifted)} cassette replies were matched by instruction because the "
            f"prompt text changed since the cassette was written (rebuild: python -m capc.prompts.demo)")
    gifs = [s.gif for s in report.steps if s.gif]
    if gifs:
        report.animation = combine_gifs(gifs, os.path.join(out_dir, "demo.gif"))
    write_summary(report)
    say(f"\nsummary: {os.path.join(out_dir, 'summary.txt')} and summary.json")
    if report.animation:
        say(f"animation: {report.animation} (one per instruction: step1.gif ...)")
    say("result: " + ("every instruction ended with a checked policy that ran to completion" if report.ok
                      else "some instruction did not end with a completed run (see above)"))
    return report


def combine_gifs(paths: list[str], target: str) -> str | None:
    """One GIF that plays the runs one after another, every frame on the first frame's
    palette (per-frame palettes would triple the file)."""
    from PIL import Image, ImageSequence

    frames, durations = [], []
    palette = None
    for path in paths:
        with Image.open(path) as gif:
            for frame in ImageSequence.Iterator(gif):
                rgb = frame.convert("RGB")
                if palette is None:
                    palette = rgb.quantize(colors=255)
                frames.append(rgb.quantize(palette=palette, dither=Image.Dither.NONE))
                durations.append(frame.info.get("duration", 40))
    if not frames:
        return None
    frames[0].save(target, save_all=True, append_images=frames[1:], duration=durations, loop=0,
                   optimize=False)
    return target


def write_summary(report: DemoReport) -> None:
    data = report.to_json()
    with open(os.path.join(report.out_dir, "summary.json"), "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False)
    lines = [f"capc demo summary ({data['replies']})", ""]
    for number, step in enumerate(report.steps, start=1):
        final = step.result.final
        lines.append(f"{number}. {step.instruction}")
        for attempt in step.result.attempts:
            lines.append(f"   attempt {attempt.index}: {attempt.verdict}")
            if attempt.verdict == "rejected":
                lines.extend("     " + line for line in attempt.rendered().splitlines())
        if step.outcome is not None:
            lines.append(f"   run: {step.outcome.status}, {float(step.outcome.sim_time):.1f} s robot time"
                         + (f", animation {step.gif}" if step.gif else ""))
        elif final.verdict == "rejected":
            lines.append("   not run: rejected after all repairs")
        lines.append("")
    lines.append("all instructions ran to completion" if report.ok else "NOT all instructions ran to completion")
    with open(os.path.join(report.out_dir, "summary.txt"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def rebuild_cassette(path: str = demo_script.CASSETTE) -> int:
    """Run the demo's compile stage with the scripted replies and record the cassette
    (`python -m capc.prompts.demo [PATH]`, after a prompt or few-shot change)."""
    from capc.prompts.provider_replay import RecordingProvider

    if os.path.exists(path):
        os.remove(path)
    recorder = RecordingProvider(demo_script.ScriptedProvider(), path, source=demo_script.AUTHORSHIP)
    results = compile_demo(recorder, quiet=True)
    print(f"wrote {len(recorder.recorded)} entries to {path}; verdicts: "
          + ", ".join(r.verdict for r in results))
    return 0


if __name__ == "__main__":
    sys.exit(rebuild_cassette(sys.argv[1] if len(sys.argv) > 1 else demo_script.CASSETTE))
