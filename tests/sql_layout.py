"""The generated SQL laid out for reading in review: a clause to a line, indented by nesting,
short groups kept on one line. Only whitespace between tokens changes (literals stay whole)."""

import re

# A string literal (with '' inside), a quoted identifier, a parameter, a word, or one character.
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|:\w+|\w+|\s+|.", re.DOTALL)
_BREAK_BEFORE = {"SELECT", "FROM", "WHERE", "ORDER", "LIMIT", "WHEN", "ELSE"}
_PAIRS = {"(": ")", "CASE": "END"}
SHORT = 80  # a group whose text is at most this long stays on one line


def _tokens(sql):
    """The tokens, with each run of white space as one " "."""
    return [" " if t.isspace() else t for t in _TOKEN.findall(sql)]


def _group_end(tokens, start):
    """The index of the token that closes the group opened at `start`."""
    opener = tokens[start].upper()
    depth = 0
    for index in range(start, len(tokens)):
        word = tokens[index].upper()
        if word == opener:
            depth += 1
        elif word == _PAIRS[opener]:
            depth -= 1
            if depth == 0:
                return index
    return len(tokens) - 1


def layout(sql: str) -> str:
    tokens = _tokens(sql)
    lines, line, depth, index = [], "", 0, 0

    def new_line():
        nonlocal line
        if line.strip():
            lines.append(line.rstrip())
        line = "    " * depth

    while index < len(tokens):
        token = tokens[index]
        word = token.upper()
        if token == " ":
            line += " " if line.strip() and not line.endswith((" ", "(")) else ""
        elif word in _PAIRS:
            end = _group_end(tokens, index)
            flat = "".join(tokens[index : end + 1])
            if len(flat) <= SHORT:
                line += flat
                index = end
            else:
                if word == "CASE":
                    new_line()
                line += token
                depth += 1
        elif word in ("END", ")"):
            depth -= 1
            new_line()
            line += token
        else:
            if word in _BREAK_BEFORE or word == "WITH":
                new_line()
            line += token
        index += 1
    lines.append(line.rstrip())
    return "\n".join(lines) + "\n"
