//! Refuses a cell that uses Python outside the notebook language before any of it
//! runs, so a cell never half-runs (submits a run, then fails on a `def` below it).

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextSize};

use super::error::PyError;

/// The first construct of `body` the kernel does not evaluate, as an error naming it,
/// with the offset where it starts.
pub(crate) fn check_suite(body: &[Stmt]) -> Result<(), (PyError, TextSize)> {
    body.iter().try_for_each(check_stmt)
}

fn fail<T>(what: &str, at: impl Ranged) -> Result<T, (PyError, TextSize)> {
    Err((PyError::unsupported(what), at.start()))
}

fn check_stmt(stmt: &Stmt) -> Result<(), (PyError, TextSize)> {
    match stmt {
        Stmt::FunctionDef(s) => fail("function definitions (`def`) are", s),
        Stmt::ClassDef(s) => fail("`class` definitions are", s),
        Stmt::Return(s) => fail("`return` statements are", s),
        Stmt::Delete(s) => fail("`del` statements are", s),
        Stmt::TypeAlias(s) => fail("`type` aliases are", s),
        Stmt::AnnAssign(s) => fail("annotated assignments (`x: int = …`) are", s),
        Stmt::With(s) => fail("`with` statements are", s),
        Stmt::Match(s) => fail("`match` statements are", s),
        Stmt::Raise(s) => fail("`raise` statements are", s),
        Stmt::Try(s) => fail("`try` statements are", s),
        Stmt::Assert(s) => fail("`assert` statements are", s),
        Stmt::Global(s) => fail("`global` statements are", s),
        Stmt::Nonlocal(s) => fail("`nonlocal` statements are", s),
        Stmt::IpyEscapeCommand(s) => {
            let what = match s.kind {
                ast::IpyEscapeKind::Shell | ast::IpyEscapeKind::ShCap => {
                    "shell commands (`!`) are".to_owned()
                }
                ast::IpyEscapeKind::Magic | ast::IpyEscapeKind::Magic2 => {
                    let name = s.value.split_whitespace().next().unwrap_or("");
                    format!("the `%{name}` magic is")
                }
                _ => "IPython help and auto-call syntax is".to_owned(),
            };
            fail(&what, s)
        }
        Stmt::Assign(s) => {
            s.targets.iter().try_for_each(check_target)?;
            check_expr(&s.value)
        }
        Stmt::AugAssign(s) => {
            check_target(&s.target)?;
            check_op(s.op, s)?;
            check_expr(&s.value)
        }
        Stmt::For(s) => {
            if s.is_async {
                return fail("`async for` loops are", s);
            }
            check_target(&s.target)?;
            check_expr(&s.iter)?;
            check_suite(&s.body)?;
            check_suite(&s.orelse)
        }
        Stmt::While(s) => {
            check_expr(&s.test)?;
            check_suite(&s.body)?;
            check_suite(&s.orelse)
        }
        Stmt::If(s) => {
            check_expr(&s.test)?;
            check_suite(&s.body)?;
            for clause in &s.elif_else_clauses {
                if let Some(test) = &clause.test {
                    check_expr(test)?;
                }
                check_suite(&clause.body)?;
            }
            Ok(())
        }
        Stmt::Import(_) | Stmt::Pass(_) | Stmt::Break(_) | Stmt::Continue(_) => Ok(()),
        Stmt::ImportFrom(s) => {
            if s.level > 0 {
                return fail("relative imports are", s);
            }
            if s.names.iter().any(|a| a.name.as_str() == "*") {
                return fail("`import *` is", s);
            }
            Ok(())
        }
        Stmt::Expr(s) => check_expr(&s.value),
    }
}

/// An assignment target: a name, a subscript, an attribute, or a tuple/list of those.
fn check_target(target: &Expr) -> Result<(), (PyError, TextSize)> {
    match target {
        Expr::Name(_) => Ok(()),
        Expr::Tuple(t) => t.elts.iter().try_for_each(check_target),
        Expr::List(t) => t.elts.iter().try_for_each(check_target),
        Expr::Subscript(s) => {
            check_expr(&s.value)?;
            check_expr(&s.slice)
        }
        Expr::Attribute(a) => check_expr(&a.value),
        Expr::Starred(s) => fail("starred assignment targets (`*rest`) are", s),
        other => check_expr(other),
    }
}

fn check_op(op: ast::Operator, at: impl Ranged) -> Result<(), (PyError, TextSize)> {
    match op {
        ast::Operator::MatMult => fail("the `@` operator is", at),
        _ => Ok(()),
    }
}

fn check_exprs<'a>(exprs: impl IntoIterator<Item = &'a Expr>) -> Result<(), (PyError, TextSize)> {
    exprs.into_iter().try_for_each(check_expr)
}

fn check_expr(expr: &Expr) -> Result<(), (PyError, TextSize)> {
    match expr {
        Expr::Named(e) => fail("assignment expressions (`:=`) are", e),
        Expr::Lambda(e) => fail("`lambda` expressions are", e),
        Expr::ListComp(e) => fail("list comprehensions are", e),
        Expr::SetComp(e) => fail("set comprehensions are", e),
        Expr::DictComp(e) => fail("dict comprehensions are", e),
        Expr::Generator(e) => fail("generator expressions are", e),
        Expr::Await(e) => fail("`await` is", e),
        Expr::Yield(e) => fail("`yield` is", e),
        Expr::YieldFrom(e) => fail("`yield from` is", e),
        Expr::TString(e) => fail("template strings (`t\"…\"`) are", e),
        Expr::Starred(e) => fail("`*` unpacking is", e),
        Expr::EllipsisLiteral(e) => fail("`...` (Ellipsis) is", e),
        Expr::Slice(e) => fail("slices outside `[…]` are", e),
        Expr::IpyEscapeCommand(e) => fail("IPython escape commands (`!`, `%`) are", e),
        Expr::NumberLiteral(n) => match n.value {
            ast::Number::Complex { .. } => fail("complex numbers are", n),
            _ => Ok(()),
        },
        Expr::StringLiteral(_)
        | Expr::BytesLiteral(_)
        | Expr::BooleanLiteral(_)
        | Expr::NoneLiteral(_)
        | Expr::Name(_) => Ok(()),
        Expr::FString(f) => {
            for part in f.value.as_slice() {
                if let ast::FStringPart::FString(fs) = part {
                    check_elements(&fs.elements)?;
                }
            }
            Ok(())
        }
        Expr::BoolOp(e) => check_exprs(&e.values),
        Expr::BinOp(e) => {
            check_op(e.op, e)?;
            check_expr(&e.left)?;
            check_expr(&e.right)
        }
        Expr::UnaryOp(e) => check_expr(&e.operand),
        Expr::If(e) => {
            check_expr(&e.test)?;
            check_expr(&e.body)?;
            check_expr(&e.orelse)
        }
        Expr::Dict(d) => {
            for item in &d.items {
                match &item.key {
                    Some(key) => check_expr(key)?,
                    None => return fail("`**` unpacking in dict displays is", &item.value),
                }
                check_expr(&item.value)?;
            }
            Ok(())
        }
        Expr::Set(e) => check_exprs(&e.elts),
        Expr::List(e) => check_exprs(&e.elts),
        Expr::Tuple(e) => check_exprs(&e.elts),
        Expr::Compare(e) => {
            check_expr(&e.left)?;
            check_exprs(e.comparators.iter())
        }
        Expr::Call(c) => {
            check_expr(&c.func)?;
            for arg in &c.arguments.args {
                if let Expr::Starred(s) = arg {
                    return fail("`*args` in calls is", s);
                }
                check_expr(arg)?;
            }
            for keyword in &c.arguments.keywords {
                if keyword.arg.is_none() {
                    return fail("`**kwargs` in calls is", keyword);
                }
                check_expr(&keyword.value)?;
            }
            Ok(())
        }
        Expr::Attribute(a) => check_expr(&a.value),
        Expr::Subscript(s) => {
            check_expr(&s.value)?;
            match &*s.slice {
                Expr::Slice(slice) => check_exprs(
                    [&slice.lower, &slice.upper, &slice.step]
                        .into_iter()
                        .flatten()
                        .map(|b| &**b),
                ),
                other => check_expr(other),
            }
        }
    }
}

fn check_elements(elements: &ast::InterpolatedStringElements) -> Result<(), (PyError, TextSize)> {
    for element in elements.iter() {
        if let ast::InterpolatedStringElement::Interpolation(i) = element {
            check_expr(&i.expression)?;
            if let Some(spec) = &i.format_spec {
                check_elements(&spec.elements)?;
            }
        }
    }
    Ok(())
}
