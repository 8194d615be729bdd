"""A scripted prompt-driven CLI for the wrap tests: aider-like questions, answers recorded.

Usage: prompt_prog.py ANSWERS_FILE. Each answer is appended to ANSWERS_FILE as one
line `question-name=answer`, as the program read it from its terminal.
"""

from __future__ import annotations

import sys


def ask(name: str, question: str, out: str) -> None:
    answer = input(question)
    with open(out, "a") as f:
        f.write(f"{name}={answer.strip()}\n")
    print(f"got {answer.strip()!r} for {name}")


def main() -> None:
    out = sys.argv[1]
    print("I will clean the build and run the tests.")
    print()
    print("rm -rf build")
    ask("shell", "Run shell command? (Y)es/(N)o/(D)on't ask again [Yes]: ", out)
    print()
    print("src/new_module.py")
    ask("create", "Create new file? (Y)es/(N)o [Yes]: ", out)
    ask("human", "Delete the cache too? [y/N] ", out)
    print("done")


if __name__ == "__main__":
    main()
