"""The ICD-10-CM tables are built once, even when a look-up races the application's warm-up thread."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# Run in a fresh interpreter: the race only exists while the code set is not loaded yet.
_RACE = textwrap.dedent(
    """
    import sys
    import threading
    from olly.codesets import icd10

    icd10._library()  # imported, not yet listed: the package builds its code list on first use
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, to make a race show

    start = threading.Barrier(9)
    answers = []

    def look_up():
        start.wait()
        answers.append(len(icd10.search_diagnoses("E11", limit=500, billable_only=False)))

    def warm():
        start.wait()
        icd10.load()

    threads = [threading.Thread(target=look_up) for _ in range(8)] + [threading.Thread(target=warm)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(sorted(answers), len(icd10.search_diagnoses("E11", limit=500, billable_only=False)))
    """
)


def test_look_ups_racing_the_warm_up_see_the_whole_code_set() -> None:
    done = subprocess.run([sys.executable, "-c", _RACE], capture_output=True, text=True, timeout=120, check=True)
    answers, after = done.stdout.split("] ")
    counts = [int(part) for part in answers.strip("[").split(",")]
    assert counts == [int(after)] * 8
    assert int(after) > 100  # E11 has well over a hundred categories and codes under it
