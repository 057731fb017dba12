"""IPython syntax in a cell becomes Python on the same lines; IPython itself is the reference for
which lines are IPython syntax (its ``TransformerManager`` turns them into ``get_ipython()`` calls)."""

from __future__ import annotations

import ast

import pytest

from peftlint.sources.ipython_syntax import cell_to_python

ISSUE_CELL = "!pip install --no-deps bitsandbytes accelerate xformers \\\n    peft trl triton\nimport peft\n"


def py(cell: str):
    return cell_to_python(cell.split("\n"))


def test_shell_command_with_backslash_continuation():
    out = py(ISSUE_CELL)
    assert out.error is None
    assert out.lines[:3] == ["pass", "", "import peft"]


def test_line_magics_help_and_assignments_keep_their_lines():
    out = py("%pip install peft\nfiles = !ls\nenv = %env\nLoraConfig?\n??LoraConfig\nLoraConfig.from_pretrained??\n"
             "/print a b\nx = 1  # what?\n")
    assert out.error is None
    assert out.lines[:8] == ["pass", "files = get_ipython()", "env = get_ipython()", "pass", "pass", "pass", "pass",
                             "x = 1  # what?"]


def test_magics_inside_blocks_keep_the_block_valid():
    out = py("for i in range(2):\n    !echo $i\n    %env X=1\nif True:\n    files = !ls\n")
    assert out.error is None
    assert out.lines[:5] == ["for i in range(2):", "    pass", "    pass", "if True:", "    files = get_ipython()"]


def test_time_magics_keep_the_statement_and_its_columns():
    out = py("%time model = load('gpt2')\n  \n%timeit -n 10 -r 3  y = f(x)\n%time\n")
    assert out.error is None
    assert out.lines[0] == "model = load('gpt2')" and out.shifts[0] == len("%time ")
    assert out.lines[2] == "y = f(x)" and out.shifts[2] == len("%timeit -n 10 -r 3  ")
    assert out.lines[3] == "pass"  # %time alone times nothing


def test_escapes_inside_strings_brackets_and_continuations_are_python():
    cell = 's = """\n!not a command\n%not a magic\n"""\nt = [1,\n  2]\nu = 1 + \\\n  2\nv = "a?"\n'
    out = py(cell)
    assert out.error is None and out.lines == cell.split("\n") and out.rewritten == []


def test_cell_magics():
    assert py("%%bash\npip install peft\nif [ -x ]; then echo; fi\n").lines == ["", "", "", ""]
    assert py("%%writefile train.py\nimport peft\n").lines == ["", "", ""]
    out = py("\n%%capture out\nfrom peft import LoraConfig\n!pip list\n")
    assert out.magic == "capture" and out.lines == ["", "", "from peft import LoraConfig", "pass", ""]
    assert py("%%time\nx = f()\n").lines[1] == "x = f()"


def test_leading_indent_is_removed_with_its_shift():
    out = py("    x = 1\n    y = [1,\n        2]\n")
    assert out.error is None and out.lines[:3] == ["x = 1", "y = [1,", "    2]"] and out.shifts[:3] == [4, 4, 4]


def test_a_cell_that_is_not_python_is_blanked_with_its_error():
    out = py("x = dict(a=1\n         b=2)\n")
    assert out.lines == ["", "", ""]
    line, col, msg = out.error
    assert line == 1 and "comma" in msg


# -- IPython as the reference -------------------------------------------------------------------------

CELLS = [
    ISSUE_CELL,
    "files = !ls -la\nenv = %env\nLoraConfig?\n??foo\nx = foo?\n",
    "if True:\n    !echo hi\n    %env X=1 \\\n       Y=2\nelse:\n    y = !pwd\n",
    's = """\n!not magic\n%also not\n"""\nz = [1,\n  !2]\n' .replace("!2", "2"),
    "%matplotlib inline\nimport os\n%load_ext autoreload\n%autoreload 2\nprint(os.sep)\n",
    "def f():\n    %pip install x\n    return 1\n# !comment\nx = 'a' # %b\n",
    "a, b = !echo 1 2\nc.d = %pwd\n",
]


def _normalized(source: str) -> str:
    """The program with every IPython call (``get_ipython().system(...)`` etc.) as ``pass`` or
    ``get_ipython()``, without positions."""

    class Calls(ast.NodeTransformer):
        def visit_Expr(self, node):
            if _is_ipython_call(node.value):
                return ast.Pass()
            return node

        def visit_Call(self, node):
            if _is_ipython_call(node):
                return ast.Call(func=ast.Name("get_ipython", ast.Load()), args=[], keywords=[])
            return self.generic_visit(node)

    return ast.dump(Calls().visit(ast.parse(source)), include_attributes=False)


def _is_ipython_call(node) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name))
            and "get_ipython" in ast.unparse(node.func))


@pytest.mark.parametrize("cell", CELLS)
def test_same_python_as_ipython(cell):
    inputtransformer2 = pytest.importorskip("IPython.core.inputtransformer2")
    ipython = inputtransformer2.TransformerManager().transform_cell(cell)
    ours = py(cell)
    assert ours.error is None
    assert _normalized("\n".join(ours.lines)) == _normalized(ipython)
