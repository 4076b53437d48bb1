//! The language: each construct of the subset, its Python semantics, and the error of
//! each construct outside it.

use super::{Session, check, check_cells};

#[test]
fn literals_display_as_python_reprs() {
    for (cell, expect) in [
        ("42", "Out: 42"),
        ("-7", "Out: -7"),
        ("3.0", "Out: 3.0"),
        ("1e-5", "Out: 1e-05"),
        ("1e16", "Out: 1e+16"),
        ("0.1 + 0.2", "Out: 0.30000000000000004"),
        ("1_000_000", "Out: 1000000"),
        ("0x1f", "Out: 31"),
        ("'text'", "Out: 'text'"),
        ("\"it's\"", "Out: \"it's\""),
        ("'say \"hi\"'", "Out: 'say \"hi\"'"),
        ("'both \\' and \"'", "Out: 'both \\' and \"'"),
        ("'tab\\tnew\\nline\\\\'", "Out: 'tab\\tnew\\nline\\\\'"),
        ("'é ✓'", "Out: 'é ✓'"),
        ("'adjacent' ' strings'", "Out: 'adjacent strings'"),
        ("b'ab\\x00\\xff'", "Out: b'ab\\x00\\xff'"),
        ("True", "Out: True"),
        ("None", ""),
        ("[1, 'a', None, [2.5]]", "Out: [1, 'a', None, [2.5]]"),
        ("(1,)", "Out: (1,)"),
        ("()", "Out: ()"),
        ("1, 2", "Out: (1, 2)"),
        ("{'a': 1, 'b': [True]}", "Out: {'a': 1, 'b': [True]}"),
        ("{}", "Out: {}"),
        ("{1, 3, 1}", "Out: {1, 3}"),
        ("set()", "Out: set()"),
        ("# only a comment", ""),
        ("x = 1  # a comment after code", ""),
        ("", ""),
    ] {
        check(cell, expect);
    }
}

#[test]
fn arithmetic_follows_python() {
    for (cell, expect) in [
        (
            "7 // 2, -7 // 2, 7 % 3, -7 % 3, 7 % -3",
            "Out: (3, -4, 1, 2, -2)",
        ),
        ("1 / 4, 4 / 2", "Out: (0.25, 2.0)"),
        (
            "2 ** 10, 2 ** -1, 2.0 ** 0.5",
            "Out: (1024, 0.5, 1.4142135623730951)",
        ),
        ("7.5 // 2, -7.5 % 2", "Out: (3.0, 0.5)"),
        ("1 + True, 3 * 1.5", "Out: (2, 4.5)"),
        ("-(-3), +2, ~5, not 0", "Out: (3, 2, -6, True)"),
        (
            "6 & 3, 6 | 3, 6 ^ 3, 1 << 4, 256 >> 2",
            "Out: (2, 7, 5, 16, 64)",
        ),
        ("'ab' * 2 + 'c', 3 * [0]", "Out: ('ababc', [0, 0, 0])"),
        ("[1] + [2, 3], (1,) + (2,)", "Out: ([1, 2, 3], (1, 2))"),
        ("{'a': 1} | {'b': 2}", "Out: {'a': 1, 'b': 2}"),
        (
            "{1, 2} | {2, 3}, {1, 2} & {2, 3}, {1, 2} - {2}",
            "Out: ({1, 2, 3}, {2}, {1})",
        ),
        ("1 / 0", "ZeroDivisionError: division by zero (line 1)"),
        (
            "1 // 0",
            "ZeroDivisionError: integer division or modulo by zero (line 1)",
        ),
        (
            "5 % 0",
            "ZeroDivisionError: integer modulo by zero (line 1)",
        ),
        (
            "2 ** 64",
            "OverflowError: integers beyond 64 bits are not supported in Runboard notebooks (line 1)",
        ),
        (
            "99999999999999999999",
            "OverflowError: integers beyond 64 bits are not supported in Runboard notebooks (line 1)",
        ),
        (
            "'a' + 1",
            "TypeError: unsupported operand type(s) for +: 'str' and 'int' (line 1)",
        ),
        (
            "[1] - [1]",
            "TypeError: unsupported operand type(s) for -: 'list' and 'list' (line 1)",
        ),
        (
            "-'a'",
            "TypeError: bad operand type for unary -: 'str' (line 1)",
        ),
    ] {
        check(cell, expect);
    }
}

#[test]
fn comparisons_and_boolean_operators() {
    for (cell, expect) in [
        (
            "1 < 2 < 3, 1 < 3 < 2, 2 == 2.0, 'a' != 'b'",
            "Out: (True, False, True, True)",
        ),
        (
            "[1, 2] < [1, 3], (1, 2) == (1, 2), 'abc' >= 'abd'",
            "Out: (True, True, False)",
        ),
        (
            "'b' in 'abc', 3 not in [1, 2], 'k' in {'k': 1}, 4 in range(0, 10, 2)",
            "Out: (True, True, True, True)",
        ),
        ("x = None\nx is None, x is not None", "Out: (True, False)"),
        (
            "a = [1]\nb = a\nc = [1]\na is b, a is c, a == c",
            "Out: (True, False, True)",
        ),
        (
            "True and 0, [] or 'x', 0 or '' or None",
            "Out: (0, 'x', None)",
        ),
        ("1 and 2 and 3", "Out: 3"),
        ("'yes' if 2 > 1 else 'no'", "Out: 'yes'"),
        ("'yes' if [] else 'no'", "Out: 'no'"),
        (
            "1 < 'a'",
            "TypeError: '<' not supported between instances of 'int' and 'str' (line 1)",
        ),
        (
            "1 in 'abc'",
            "TypeError: 'in <string>' requires string as left operand, not int (line 1)",
        ),
    ] {
        check(cell, expect);
    }
}

#[test]
fn strings_format_like_python() {
    for (cell, expect) in [
        (
            "x = 3.14159\nf'{x:.2f}|{x!r}|{x=}|{x:10.3f}|'",
            "Out: '3.14|3.14159|x=3.14159|     3.142|'",
        ),
        (
            "n = 255\nf'{n:#x} {n:08b} {n:,} {n:>6} {n:<6}| {n:^7}|'",
            "Out: '0xff 11111111 255    255 255   |   255  |'",
        ),
        (
            "f'{1234567:,}|{1234567.891:,.2f}|{-5:+d}|{5:+d}|{0.25:%}|{0.5:.0%}'",
            "Out: '1,234,567|1,234,567.89|-5|+5|25.000000%|50%'",
        ),
        (
            "f'{0.5:e}|{1234.5:g}|{0.00001234:g}|{1e20:g}|{100.0:g}|{2.5:.3}'",
            "Out: '5.000000e-01|1234.5|1.234e-05|1e+20|100|2.5'",
        ),
        (
            "f'{\"ab\":>4}|{\"ab\":*<5}|{\"abcdef\":.3}|{\"x\"!r}'",
            "Out: \"  ab|ab***|abc|'x'\"",
        ),
        (
            "w = 6\nf'{3.14159:{w}.2f}|{{literal}}'",
            "Out: '  3.14|{literal}'",
        ),
        (
            "name = 'run'\nf'{name.upper()} {len(name)} {[1, 2][0]}' f' tail'",
            "Out: 'RUN 3 1 tail'",
        ),
        (
            "f'{True} {None} {1.0} {[0.1]}'",
            "Out: 'True None 1.0 [0.1]'",
        ),
        (
            "'%s has %d items (%.1f%%)' % ('list', 3, 42.57)",
            "Out: 'list has 3 items (42.6%)'",
        ),
        (
            "'%5s|%-5s|%05d|%x|%r|%e' % ('a', 'b', 42, 255, 'q', 12345.678)",
            "Out: \"    a|b    |00042|ff|'q'|1.234568e+04\"",
        ),
        (
            "'%(name)s=%(value)d' % {'name': 'epochs', 'value': 10}",
            "Out: 'epochs=10'",
        ),
        ("'%s' % [1, 2]", "Out: '[1, 2]'"),
        (
            "'{} and {name} and {0}'.format('a', name='b')",
            "Out: 'a and b and a'",
        ),
        (
            "'{:>8.3f}|{:,}|{!r}|{{}}'.format(2.5, 10000, 'x')",
            "Out: \"   2.500|10,000|'x'|{}\"",
        ),
        ("'{0[1]} {d[k]}'.format([5, 6], d={'k': 'v'})", "Out: '6 v'"),
        (
            "'%d %d' % (1,)",
            "TypeError: not enough arguments for format string (line 1)",
        ),
        (
            "'%d' % (1, 2)",
            "TypeError: not all arguments converted during string formatting (line 1)",
        ),
        (
            "'{}'.format()",
            "IndexError: Replacement index 0 out of range for positional args tuple (line 1)",
        ),
        (
            "f'{\"x\":d}'",
            "ValueError: Unknown format code 'd' for object of type 'str' (line 1)",
        ),
        (
            "f'{1.5:d}'",
            "ValueError: Unknown format code 'd' for object of type 'float' (line 1)",
        ),
    ] {
        check(cell, expect);
    }
}

#[test]
fn string_methods() {
    for (cell, expect) in [
        (
            "' Hi There '.strip().lower().replace('there', 'you')",
            "Out: 'hi you'",
        ),
        (
            "'a,b,,c'.split(','), 'a  b c'.split(), 'a b c'.split(None, 1)",
            "Out: (['a', 'b', '', 'c'], ['a', 'b', 'c'], ['a', 'b c'])",
        ),
        (
            "'k=v=w'.rsplit('=', 1), 'x\\ny\\n'.splitlines()",
            "Out: (['k=v', 'w'], ['x', 'y'])",
        ),
        (
            "'-'.join(['a', 'b', 'c']), ''.join([])",
            "Out: ('a-b-c', '')",
        ),
        (
            "'train.py'.endswith('.py'), 'outputs/m'.startswith(('logs/', 'outputs/'))",
            "Out: (True, True)",
        ),
        (
            "'hello'.find('l'), 'hello'.rfind('l'), 'hello'.find('z'), 'hello'.count('l')",
            "Out: (2, 3, -1, 2)",
        ),
        (
            "'42'.zfill(5), '-4'.zfill(4), 'ab'.rjust(4, '.'), 'ab'.ljust(4), 'ab'.center(6, '*')",
            "Out: ('00042', '-004', '..ab', 'ab  ', '**ab**')",
        ),
        (
            "'hello world'.title(), 'hello'.capitalize(), 'ABC'.isupper(), '12'.isdigit()",
            "Out: ('Hello World', 'Hello', True, True)",
        ),
        (
            "'abc'.encode(), b'abc'.decode('utf-8')",
            "Out: (b'abc', 'abc')",
        ),
        ("'x'.index('y')", "ValueError: substring not found (line 1)"),
        (
            "'-'.join([1])",
            "TypeError: sequence item 0: expected str instance, int found (line 1)",
        ),
        (
            "'x'.nope()",
            "AttributeError: 'str' object has no attribute 'nope' (line 1)",
        ),
    ] {
        check(cell, expect);
    }
}

#[test]
fn subscripts_and_slices() {
    for (cell, expect) in [
        (
            "[10, 20, 30][1], [10, 20, 30][-1], 'abc'[0], (1, 2)[1]",
            "Out: (20, 30, 'a', 2)",
        ),
        (
            "x = [0, 1, 2, 3, 4]\nx[1:3], x[:2], x[3:], x[::2], x[::-1], x[-2:]",
            "Out: ([1, 2], [0, 1], [3, 4], [0, 2, 4], [4, 3, 2, 1, 0], [3, 4])",
        ),
        (
            "'hello'[::-1], 'hello'[1:-1], b'abc'[1], range(10)[3]",
            "Out: ('olleh', 'ell', 98, 3)",
        ),
        (
            "d = {'a': 1}\nd['b'] = 2\nd['a'] += 10\nd",
            "Out: {'a': 11, 'b': 2}",
        ),
        ("x = [1, 2]\nx[0] = 'first'\nx", "Out: ['first', 2]"),
        ("[1][5]", "IndexError: list index out of range (line 1)"),
        ("{'a': 1}['b']", "KeyError: 'b' (line 1)"),
        (
            "(1,)[0] = 2",
            "TypeError: 'tuple' object does not support item assignment (line 1)",
        ),
        ("{[1]: 2}", "TypeError: unhashable type: 'list' (line 1)"),
        (
            "5[0]",
            "TypeError: 'int' object is not subscriptable (line 1)",
        ),
        (
            "[1]['a']",
            "TypeError: list indices must be integers or slices, not str (line 1)",
        ),
    ] {
        check(cell, expect);
    }
}

#[test]
fn assignment_forms() {
    for (cell, expect) in [
        ("a, b = 1, 2\nb, a", "Out: (2, 1)"),
        ("(a, b), c = [1, 2], 3\na + b + c", "Out: 6"),
        ("x = y = [1]\ny.append(2)\nx", "Out: [1, 2]"),
        (
            "n = 1\nn += 2\nn *= 10\nn -= 5\nn //= 2\nn **= 2\nn",
            "Out: 144",
        ),
        ("s = 'a'\ns += 'b'\ns", "Out: 'ab'"),
        ("l = [1]\nm = l\nl += [2]\nm", "Out: [1, 2]"),
        (
            "a, b = [1, 2, 3]",
            "ValueError: too many values to unpack (expected 2) (line 1)",
        ),
        (
            "a, b, c = 1, 2",
            "ValueError: not enough values to unpack (expected 3, got 2) (line 1)",
        ),
        (
            "x = 1\nx.y = 2",
            "NotImplementedError: setting attributes (`….y = …`) is not supported in Runboard notebooks (line 2)",
        ),
        (
            "missing + 1",
            "NameError: name 'missing' is not defined (line 1)",
        ),
        (
            "os.getcwd()",
            "NameError: name 'os' is not defined (add `import os`) (line 1)",
        ),
    ] {
        check(cell, expect);
    }
}

#[test]
fn control_flow() {
    for (cell, expect) in [
        (
            "x = 5\nif x > 3:\n    print('big')\nelif x > 1:\n    print('medium')\nelse:\n    print('small')",
            "big",
        ),
        (
            "x = 2\nif x > 3:\n    print('big')\nelif x > 1:\n    print('medium')\nelse:\n    print('small')",
            "medium",
        ),
        ("if 0:\n    print('no')\nelse:\n    print('else')", "else"),
        (
            "for i in range(5):\n    if i == 1:\n        continue\n    if i == 3:\n        break\n    print(i)",
            "0\n2",
        ),
        (
            "for i, c in enumerate('ab', start=1):\n    print(i, c)",
            "1 a\n2 b",
        ),
        ("for k in {'x': 1, 'y': 2}:\n    print(k)", "x\ny"),
        ("for k, v in {'x': 1}.items():\n    print(k, v)", "x 1"),
        ("for i in []:\n    pass\nelse:\n    print('done')", "done"),
        (
            "for i in [1]:\n    break\nelse:\n    print('not printed')\nprint('after')",
            "after",
        ),
        ("n = 0\nwhile n < 3:\n    n += 1\nprint(n)", "3"),
        (
            "n = 0\nwhile True:\n    n += 1\n    if n == 4:\n        break\nn",
            "Out: 4",
        ),
        (
            "for i in range(10 ** 9):\n    if i == 2:\n        break\ni",
            "Out: 2",
        ),
        (
            "total = 0\nfor i in range(1, 4):\n    for j in range(i):\n        total += j\ntotal",
            "Out: 4",
        ),
        (
            "for x in 5:\n    pass",
            "TypeError: 'int' object is not iterable (line 1)",
        ),
    ] {
        check(cell, expect);
    }
}

#[test]
fn print_writes_to_the_output() {
    for (cell, expect) in [
        ("print('a', 1, 2.5, None, [1])", "a 1 2.5 None [1]"),
        ("print('a', 'b', sep='-', end='!')\nprint('c')", "a-b!c"),
        ("print()", ""),
        ("print('x', end='')\nprint('y', sep=None)", "xy"),
        ("print('%s' % 1, f'{2}', '{}'.format(3))", "1 2 3"),
        (
            "print(1, sep=5)",
            "TypeError: sep must be None or a string, not int (line 1)",
        ),
        (
            "print('x', bogus=1)",
            "TypeError: print() got an unexpected keyword argument 'bogus' (line 1)",
        ),
    ] {
        check(cell, expect);
    }
}

#[test]
fn builtins() {
    for (cell, expect) in [
        (
            "len('héllo'), len([1, 2]), len({'a': 1}), len(range(0, 10, 3))",
            "Out: (5, 2, 1, 4)",
        ),
        (
            "list(range(3)), list(range(2, 8, 3)), list(range(3, 0, -1)), range(5)",
            "Out: ([0, 1, 2], [2, 5], [3, 2, 1], range(0, 5))",
        ),
        (
            "str(1.0), str(None), str([1, 'a']), str()",
            "Out: ('1.0', 'None', \"[1, 'a']\", '')",
        ),
        (
            "int('42'), int(' -7 '), int(3.9), int(-3.9), int('ff', 16), int('0b101', 0), int(True)",
            "Out: (42, -7, 3, -3, 255, 5, 1)",
        ),
        (
            "float('1e3'), float(2), float('-inf'), float(' 0.5 ')",
            "Out: (1000.0, 2.0, -inf, 0.5)",
        ),
        (
            "bool(0), bool('x'), bool([]), bool(None)",
            "Out: (False, True, False, False)",
        ),
        (
            "dict(a=1, b=2), dict([('k', 'v')]), dict({'x': 1}, y=2)",
            "Out: ({'a': 1, 'b': 2}, {'k': 'v'}, {'x': 1, 'y': 2})",
        ),
        (
            "list('ab'), tuple([1, 2]), set([1, 1, 2]), list({'k': 1})",
            "Out: (['a', 'b'], (1, 2), {1, 2}, ['k'])",
        ),
        (
            "sorted([3, 1, 2]), sorted(['bb', 'a', 'ccc'], key=len, reverse=True), sorted('cab')",
            "Out: ([1, 2, 3], ['ccc', 'bb', 'a'], ['a', 'b', 'c'])",
        ),
        (
            "list(enumerate(['a', 'b'])), list(zip([1, 2, 3], 'ab'))",
            "Out: ([(0, 'a'), (1, 'b')], [(1, 'a'), (2, 'b')])",
        ),
        (
            "min(3, 1, 2), max([1, 5, 2]), min('bca'), max([], default=0), max(['a', 'bbb', 'cc'], key=len)",
            "Out: (1, 5, 'a', 0, 'bbb')",
        ),
        (
            "sum([1, 2, 3]), sum([0.5, 0.25]), sum([[1], [2]], [])",
            "Out: (6, 0.75, [1, 2])",
        ),
        (
            "isinstance(1, int), isinstance(True, int), isinstance('s', (int, str)), isinstance(1.0, int)",
            "Out: (True, True, True, False)",
        ),
        (
            "isinstance({}, dict), isinstance([], list), isinstance(None, str)",
            "Out: (True, True, False)",
        ),
        (
            "abs(-3), abs(-2.5), round(2.5), round(3.5), round(2.675, 2), round(7)",
            "Out: (3, 2.5, 2, 4, 2.67, 7)",
        ),
        (
            "repr('x'), type(1), type('s') == str, type([]) is list",
            "Out: (\"'x'\", <class 'int'>, True, True)",
        ),
        ("print", "Out: <built-in function print>"),
        (
            "int('x')",
            "ValueError: invalid literal for int() with base 10: 'x' (line 1)",
        ),
        (
            "float('abc')",
            "ValueError: could not convert string to float: 'abc' (line 1)",
        ),
        (
            "len(5)",
            "TypeError: object of type 'int' has no len() (line 1)",
        ),
        (
            "len()",
            "TypeError: len() missing 1 required argument: 'obj' (line 1)",
        ),
        (
            "len([], [])",
            "TypeError: len() takes 1 positional argument but 2 were given (line 1)",
        ),
        (
            "max([])",
            "ValueError: max() iterable argument is empty (line 1)",
        ),
        (
            "range(1, 2, 0)",
            "ValueError: range() arg 3 must not be zero (line 1)",
        ),
        (
            "sorted([1, 'a'])",
            "TypeError: '<' not supported between instances of 'str' and 'int' (line 1)",
        ),
        (
            "sum(['a'], '')",
            "TypeError: sum() can't sum strings [use ''.join(seq) instead] (line 1)",
        ),
        ("5()", "TypeError: 'int' object is not callable (line 1)"),
    ] {
        check(cell, expect);
    }
}

#[test]
fn list_dict_and_set_methods() {
    for (cell, expect) in [
        (
            "x = [3, 1]\nx.append(2)\nx.extend([5])\nx.insert(0, 9)\nx",
            "Out: [9, 3, 1, 2, 5]",
        ),
        (
            "x = [3, 1, 2]\nx.sort()\ny = x.copy()\nx.reverse()\nx, y, x.pop(), x, x.index(3), x.count(3)",
            "Out: ([3, 2], [1, 2, 3], 1, [3, 2], 0, 1)",
        ),
        ("x = [1, 2, 1]\nx.remove(1)\nx", "Out: [2, 1]"),
        ("x = ['bb', 'a']\nx.sort(key=len)\nx", "Out: ['a', 'bb']"),
        (
            "d = {'a': 1}\nd.get('a'), d.get('z'), d.get('z', 0), list(d.keys()), list(d.values())",
            "Out: (1, None, 0, ['a'], [1])",
        ),
        (
            "d = {'a': 1}\nd.update({'b': 2}, c=3)\nd.setdefault('a', 5), d.setdefault('e', 6), d.pop('b'), d",
            "Out: (1, 6, 2, {'a': 1, 'c': 3, 'e': 6})",
        ),
        (
            "s = {1}\ns.add(2)\ns.add(1)\ns.discard(5)\ns",
            "Out: {1, 2}",
        ),
        ("[].pop()", "IndexError: pop from empty list (line 1)"),
        ("{}.pop('k')", "KeyError: 'k' (line 1)"),
        (
            "[1].remove(2)",
            "ValueError: list.remove(x): x not in list (line 1)",
        ),
        (
            "[].push(1)",
            "AttributeError: 'list' object has no attribute 'push' (line 1)",
        ),
    ] {
        check(cell, expect);
    }
}

#[test]
fn variables_live_across_cells_and_the_last_expression_is_shown() {
    check_cells(&[
        ("x = 10\ny = [1]", ""),
        ("y.append(x)\nx * 2", "Out: 20"),
        ("y", "Out: [1, 10]"),
        ("y;", ""),
        ("x = 'shadow'\nx", "Out: 'shadow'"),
        ("print(x)\nx", "shadow\nOut: 'shadow'"),
    ]);
}

#[test]
fn execution_counts_each_cell_even_when_it_fails() {
    let mut s = Session::new();
    s.run("1");
    s.run("1 / 0");
    s.run("class A: pass");
    assert_eq!(s.kernel.execution_count(), 3);
}

#[test]
fn errors_name_the_line_of_the_failing_statement() {
    for (cell, expect) in [
        (
            "print('before')\nx = 1\nx / 0\nprint('after')",
            "before\nZeroDivisionError: division by zero (line 3)",
        ),
        (
            "for i in range(3):\n    print(i)\n    if i == 1:\n        i / 0",
            "0\n1\nZeroDivisionError: division by zero (line 4)",
        ),
        (
            "x = (1 +\n     2)\ny = [\n  1,\n  undefined,\n]",
            "NameError: name 'undefined' is not defined (line 3)",
        ),
    ] {
        check(cell, expect);
    }
}

#[test]
fn syntax_errors_name_their_line() {
    for (cell, expect) in [
        (
            "print('a'",
            "SyntaxError: unexpected EOF while parsing (line 1)",
        ),
        (
            "x = 1\nif x\n    pass",
            "SyntaxError: Expected `:`, found newline (line 2)",
        ),
        ("x = = 2", "SyntaxError: Expected an expression (line 1)"),
        (
            "x = 1\ns = 'caf\\N{LATIN SMALL LETTER E WITH ACUTE}'",
            "SyntaxError: `\\N{...}` escapes are not supported in Runboard notebooks; write the character itself or its code point as `\\u....` (line 2)",
        ),
    ] {
        check(cell, expect);
    }
}

#[test]
fn unsupported_constructs_fail_before_anything_runs_naming_the_construct_and_line() {
    let err = |what: &str, line: u32| {
        format!("NotImplementedError: {what} not supported in Runboard notebooks (line {line})")
    };
    for (cell, expect) in [
        ("class Model:\n    pass", err("`class` definitions are", 1)),
        (
            "print('runs first?')\n\ndef f():\n    return 1",
            err("function definitions (`def`) are", 3),
        ),
        (
            "async def f():\n    pass",
            err("function definitions (`def`) are", 1),
        ),
        ("f = lambda x: x", err("`lambda` expressions are", 1)),
        ("[x for x in range(3)]", err("list comprehensions are", 1)),
        ("{x for x in range(3)}", err("set comprehensions are", 1)),
        (
            "{x: 1 for x in range(3)}",
            err("dict comprehensions are", 1),
        ),
        (
            "sum(x for x in range(3))",
            err("generator expressions are", 1),
        ),
        (
            "try:\n    pass\nexcept Exception:\n    pass",
            err("`try` statements are", 1),
        ),
        (
            "with open('f') as f:\n    pass",
            err("`with` statements are", 1),
        ),
        ("x = 1\ndel x", err("`del` statements are", 2)),
        ("raise ValueError('x')", err("`raise` statements are", 1)),
        ("assert 1 == 1", err("`assert` statements are", 1)),
        ("global x", err("`global` statements are", 1)),
        (
            "x: int = 1",
            err("annotated assignments (`x: int = …`) are", 1),
        ),
        (
            "match 1:\n    case 1:\n        pass",
            err("`match` statements are", 1),
        ),
        (
            "if True:\n    while (n := 1):\n        pass",
            err("assignment expressions (`:=`) are", 2),
        ),
        ("print(*[1, 2])", err("`*args` in calls is", 1)),
        ("print(**{'sep': ''})", err("`**kwargs` in calls is", 1)),
        (
            "a, *rest = [1, 2]",
            err("starred assignment targets (`*rest`) are", 1),
        ),
        ("{**{}}", err("`**` unpacking in dict displays is", 1)),
        ("x = 1j", err("complex numbers are", 1)),
        ("x = ...", err("`...` (Ellipsis) is", 1)),
        ("a @ b", err("the `@` operator is", 1)),
        ("from . import x", err("relative imports are", 1)),
        ("from os import *", err("`import *` is", 1)),
        ("%pip install numpy", err("the `%pip` magic is", 1)),
        ("x = 1\n!ls -l", err("shell commands (`!`) are", 2)),
        ("for x in y:\n    yield x", err("`yield` is", 2)),
        ("return 5", err("`return` statements are", 1)),
    ] {
        check(cell, &expect);
    }
}

#[test]
fn a_refused_cell_runs_nothing() {
    let mut s = Session::new();
    let out = s.run("x = 1\nprint('side effect')\nclass A:\n    pass");
    assert_eq!(
        out,
        "NotImplementedError: `class` definitions are not supported in Runboard notebooks (line 3)"
    );
    assert_eq!(
        s.run("x"),
        "NameError: name 'x' is not defined (line 1)",
        "no statement of the refused cell ran"
    );
}

#[test]
fn imports_bind_modules_and_names() {
    for (cell, expect) in [
        ("import os\nos.path.join('a', 'b')", "Out: 'a/b'"),
        ("import os.path\nos.path.basename('x/y.py')", "Out: 'y.py'"),
        ("import os.path as osp\nosp.dirname('x/y.py')", "Out: 'x'"),
        (
            "from os import path, getcwd\npath.join('/abs', 'c'), getcwd()",
            "Out: ('/abs/c', '/work')",
        ),
        (
            "from os.path import join as j\nj('a', '/b', 'c')",
            "Out: '/b/c'",
        ),
        (
            "import shutil\nshutil.copy",
            "Out: <built-in function copy>",
        ),
        (
            "import azureml.core\nprint('SDK version:', azureml.core.VERSION)",
            "SDK version: 1.60.0+runboard",
        ),
        (
            "from azureml.core import Workspace, Experiment\nExperiment",
            "Out: <class 'Experiment'>",
        ),
        (
            "from azureml.train.estimator import Estimator, Mpi\nEstimator, Mpi",
            "Out: (<class 'Estimator'>, <class 'Mpi'>)",
        ),
        (
            "from azureml.train.dnn import PyTorch as PT\nPT",
            "Out: <class 'PyTorch'>",
        ),
        (
            "from azureml.widgets import RunDetails\nRunDetails",
            "Out: <class 'RunDetails'>",
        ),
        (
            "import numpy as np",
            "ModuleNotFoundError: No module named 'numpy': Runboard notebooks import only azureml.*, os, os.path and shutil (line 1)",
        ),
        (
            "from sklearn import datasets",
            "ModuleNotFoundError: No module named 'sklearn': Runboard notebooks import only azureml.*, os, os.path and shutil (line 1)",
        ),
        (
            "from azureml.core.compute import AmlCompute",
            "ImportError: cannot import name 'AmlCompute' from 'azureml.core.compute' (Runboard provides ComputeTarget) (line 1)",
        ),
        (
            "import os\nos.system('ls')",
            "AttributeError: module 'os' has no attribute 'system' (line 2)",
        ),
    ] {
        check(cell, expect);
    }
    let mut s = Session::new();
    let out = s.run("import azureml.pipeline");
    assert!(
        out.starts_with("ModuleNotFoundError: No module named 'azureml.pipeline': Runboard provides azureml.core.workspace"),
        "{out}"
    );
}
