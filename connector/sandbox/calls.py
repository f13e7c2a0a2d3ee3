"""The sandbox's call history: answered calls, recordings and transcripts made up on demand.

Nothing is stored: every call is generated from a seeded generator, so the same question
always gets the same answer.
"""

from __future__ import annotations

import io
import math
import random
import struct
import wave
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from connector.sandbox.state import DOC_CALLS, SandboxState

#: The service's clock: call times are UK wall times, call ids carry the Unix time.
SERVICE_ZONE = ZoneInfo("Europe/London")

EXTENSIONS = [f"10{n:02d}" for n in range(1, 13)]

_DIALOGUES = [
    [
        "Hello, how can I help you?",
        "Hi, I'm calling about my order from last week.",
        "Of course, can I take the order number?",
        "It's four five two one.",
        "Thanks, I can see it has been dispatched today.",
        "Brilliant, thank you.",
        "Thanks. Bye.",
        "Bye.",
    ],
    [
        "Good morning, accounts.",
        "Morning, I wanted to check an invoice.",
        "Sure, which one is it?",
        "The one dated the third, it looks like it was charged twice.",
        "Let me have a look. Yes, I'll refund the second payment.",
        "Great, thanks for sorting that.",
    ],
    [
        "Hello?",
        "Hello, is that the front desk?",
        "It is, yes.",
        "Could you put me through to Sarah, please?",
        "One moment.",
    ],
]


class CallHistory:
    """Deterministic, realistic answered calls for the extensions ``1001``-``1012``.

    Calls are generated per (extension, day) from a seeded generator, so any range
    answers the same every time without storing anything; the external parties are
    numbers from the phonebook (so names resolve) and a few unknown callers.
    """

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._by_id: dict[str, dict[str, str]] = {}
        for call_id, caller, callee, direction, when, seconds in DOC_CALLS:
            self._by_id[call_id] = _call_entry(call_id, caller, callee, direction, when, seconds)
        self._documented = list(self._by_id.values())
        # Fixed at start, so a call id found today is found again after phonebook edits.
        self._parties = self._externals()

    def _externals(self) -> list[str]:
        numbers = sorted(
            {
                c[k]
                for c in self.state.snapshot()
                for k in ("phone1", "phone2", "phone3")
                if len(c[k]) >= 10
            }
        )
        return [*numbers, "07700900461", "01632960999", "+353212345678"]

    def _day(self, extension: str, day: date) -> list[dict[str, str]]:
        if extension not in EXTENSIONS:
            return []
        rng = random.Random(f"{extension}:{day.isoformat()}")
        externals = self._parties
        calls = []
        count = rng.randint(0, 2) if day.weekday() >= 5 else rng.randint(2, 7)
        for _ in range(count):
            moment = datetime.combine(day, datetime.min.time()) + timedelta(
                seconds=rng.randint(8 * 3600, 18 * 3600)
            )
            kind = rng.choice(["IN", "IN", "OUT", "LOCAL"])
            other = rng.choice(externals) if kind != "LOCAL" else rng.choice(EXTENSIONS)
            caller, callee = (other, extension) if kind == "IN" else (extension, other)
            node = rng.choice(["THE-ANL-ND2", "THE-ANL-ND1"])
            stamp = int(moment.replace(tzinfo=SERVICE_ZONE).timestamp())
            call_id = f"SIPALTO-{node}-{stamp}.{rng.randint(10000, 99999)}"
            entry = _call_entry(
                call_id,
                caller,
                callee,
                kind,
                moment.strftime("%Y-%m-%d %H:%M:%S"),
                min(1800, max(3, int(rng.lognormvariate(4.0, 1.1)))),
            )
            calls.append(entry)
        return calls

    def for_number(self, number: str, first: date, last: date) -> list[dict[str, str]]:
        """Answered calls involving ``number`` between two days, inclusive.

        The same answer whatever was asked before: an outside number's calls are found
        by generating every extension's days in the range.
        """
        calls = [c for c in self._documented if number in (c["caller"], c["callee"])]
        extensions = [number] if number in EXTENSIONS else EXTENSIONS
        day = first
        while day <= last:
            for extension in extensions:
                for call in self._day(extension, day):
                    self._by_id.setdefault(call["call_id"], call)
                    if number in (call["caller"], call["callee"]):
                        calls.append(call)
            day += timedelta(days=1)
        unique = {c["call_id"]: c for c in calls}
        return sorted(unique.values(), key=lambda c: (c["date"], c["call_id"]))

    def find(self, call_id: str) -> dict[str, str] | None:
        """A call by id: one of the docs' calls or one generated earlier or decodable."""
        if call_id in self._by_id:
            return self._by_id[call_id]
        # A generated id carries its timestamp: regenerate that day for every extension.
        try:
            stamp = int(call_id.rsplit("-", 1)[-1].split(".")[0])
        except ValueError:
            return None
        try:
            day = datetime.fromtimestamp(stamp, SERVICE_ZONE).date()
        except (OverflowError, OSError, ValueError):
            return None
        for extension in EXTENSIONS:
            self.for_number(extension, day, day)
        return self._by_id.get(call_id)

    def transcript(self, call: dict[str, str]) -> list[dict[str, str]]:
        """The transcript as the API sends it: a combined summary first, then segments."""
        rng = random.Random(call["call_id"])
        # Calls of a few seconds (a wrong number, a hang-up) have nothing transcribed.
        if int(call["duration"]) < 10:
            return []
        lines = rng.choice(_DIALOGUES)
        uniqueid = call["call_id"]
        reid = str(rng.randint(20000000, 29999999))
        segments = []
        # Speech fills most of the call: share its length out by how long each line is.
        call_ms = int(call["duration"]) * 1000
        clock = rng.uniform(0.02, 0.08) * call_ms
        speaking = 0.8 * call_ms - clock
        weights = [len(text) + rng.uniform(5, 25) for text in lines]
        for index, text in enumerate(lines):
            share = speaking * weights[index] / sum(weights)
            length = 0.8 * share
            speaker = "1" if index % 2 == 0 else "0"
            segments.append(
                {
                    "uniqueid": uniqueid,
                    "speaker": speaker,
                    "start": f"{clock:.2f}",
                    "end": f"{clock + length:.2f}",
                    "text": (" " if rng.random() < 0.4 else "") + text,
                    "reid": reid,
                }
            )
            clock += share
        summary = {
            "uniqueid": uniqueid,
            "speaker": segments[0]["speaker"],
            "start": segments[0]["start"],
            "end": segments[-1]["end"],
            "text": ". ".join(s["text"].strip().rstrip(".") for s in segments) + ".",
            "reid": str(int(reid) - 66),
        }
        # Segments are not always sent in time order; the summary always comes first.
        body = segments[:]
        if len(body) > 3 and rng.random() < 0.5:
            body[1], body[2] = body[2], body[1]
        return [summary, *body]


def _call_entry(
    call_id: str, caller: str, callee: str, direction: str, when: str, seconds: int
) -> dict[str, str]:
    return {
        "call_id": call_id,
        "caller": caller,
        "callee": callee,
        "direction": direction,
        "disposition": "ANSWERED",
        "date": when,
        "duration": str(seconds),
    }


def make_wav(seconds: float = 1.0, *, seed: str = "", rate: int = 8000) -> bytes:
    """A small valid mono 16-bit PCM WAV: a soft two-tone hum, like a quiet line."""
    rng = random.Random(seed)
    low, high = rng.choice([(350, 440), (400, 450), (480, 620)])
    frames = bytearray()
    for n in range(int(seconds * rate)):
        t = n / rate
        sample = 0.15 * math.sin(2 * math.pi * low * t) + 0.15 * math.sin(2 * math.pi * high * t)
        frames += struct.pack("<h", int(sample * 32767))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return buffer.getvalue()
