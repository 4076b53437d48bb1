//! The evaluator: statements and expressions of the notebook language.
//!
//! Everything is `async` because any call may reach the [`Host`]; recursive steps are
//! boxed futures ([`Fut`]). Statements set the line on errors raised inside them.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextSize};

use super::args::Args;
use super::error::PyError;
use super::format::format_value;
use super::host::Host;
use super::modules;
use super::ops;
use super::value::{Builtin, Num, Value, number};

/// A boxed, non-`Send` future of a kernel step.
pub(crate) type Fut<'a, T> = Pin<Box<dyn Future<Output = Result<T, PyError>> + 'a>>;

/// How a statement ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Normal,
    Break,
    Continue,
}

/// One cell's evaluation: the session's variables, the host, and the cell's source
/// (for line numbers).
pub(crate) struct Interp<'k, H: Host> {
    pub globals: &'k mut HashMap<String, Value>,
    pub host: &'k mut H,
    pub source: &'k str,
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of(source: &str, at: TextSize) -> u32 {
    let end = usize::try_from(at.to_u32()).unwrap_or(0).min(source.len());
    let newlines = source.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

impl<H: Host> Interp<'_, H> {
    pub fn line(&self, at: TextSize) -> u32 {
        line_of(self.source, at)
    }

    /// Runs statements in order.
    pub fn exec_suite<'a>(&'a mut self, body: &'a [Stmt]) -> Fut<'a, Flow> {
        Box::pin(async move {
            for stmt in body {
                // The line is found only for an error: counting newlines for every
                // statement run would make loops quadratic in the cell's length.
                let flow = match self.exec_stmt(stmt).await {
                    Ok(flow) => flow,
                    Err(e) => return Err(e.at(self.line(stmt.start()))),
                };
                if flow != Flow::Normal {
                    return Ok(flow);
                }
            }
            Ok(Flow::Normal)
        })
    }

    fn check_interrupt(&mut self) -> Result<(), PyError> {
        if self.host.interrupted() {
            Err(PyError::new("KeyboardInterrupt", "interrupted by the user"))
        } else {
            Ok(())
        }
    }

    async fn exec_stmt(&mut self, stmt: &Stmt) -> Result<Flow, PyError> {
        match stmt {
            Stmt::Expr(s) => {
                self.eval(&s.value).await?;
            }
            Stmt::Assign(s) => {
                let value = self.eval(&s.value).await?;
                for target in &s.targets {
                    self.assign(target, value.clone()).await?;
                }
            }
            Stmt::AugAssign(s) => self.aug_assign(s).await?,
            Stmt::If(s) => {
                if self.eval(&s.test).await?.truthy() {
                    return self.exec_suite(&s.body).await;
                }
                for clause in &s.elif_else_clauses {
                    let take = match &clause.test {
                        Some(test) => self.eval(test).await?.truthy(),
                        None => true,
                    };
                    if take {
                        return self.exec_suite(&clause.body).await;
                    }
                }
            }
            Stmt::For(s) => return self.exec_for(s).await,
            Stmt::While(s) => loop {
                self.check_interrupt()?;
                if !self.eval(&s.test).await?.truthy() {
                    return self.exec_suite(&s.orelse).await;
                }
                if self.exec_suite(&s.body).await? == Flow::Break {
                    break;
                }
            },
            Stmt::Break(_) => return Ok(Flow::Break),
            Stmt::Continue(_) => return Ok(Flow::Continue),
            Stmt::Pass(_) => {}
            Stmt::Import(s) => {
                for alias in &s.names {
                    let name = alias.name.as_str();
                    let module = modules::import(name)?;
                    match &alias.asname {
                        Some(asname) => {
                            self.globals
                                .insert(asname.as_str().to_owned(), Value::Module(module));
                        }
                        None => {
                            // `import os.path` binds `os`.
                            let top = name.split('.').next().unwrap_or(name);
                            let top = modules::import(top)?;
                            self.globals.insert(top.to_owned(), Value::Module(top));
                        }
                    }
                }
            }
            Stmt::ImportFrom(s) => {
                let module = s.module.as_ref().map_or("", |m| m.as_str());
                let module = modules::import(module)?;
                for alias in &s.names {
                    let name = alias.name.as_str();
                    let value = modules::import_from(module, name)?;
                    let bound = alias.asname.as_ref().map_or(name, |a| a.as_str());
                    self.globals.insert(bound.to_owned(), value);
                }
            }
            // `check` refused everything else before the cell started.
            other => return Err(PyError::unsupported(&format!("{other:?} is"))),
        }
        Ok(Flow::Normal)
    }

    async fn exec_for(&mut self, s: &ast::StmtFor) -> Result<Flow, PyError> {
        let iterable = self.eval(&s.iter).await?;
        // A range is walked without building its list, so `range(10**9)` with a
        // `break` costs nothing.
        let items: Box<dyn Iterator<Item = Value>> = match &iterable {
            Value::Range(r) => {
                let r = *r;
                Box::new((0..r.len()).map(move |i| Value::Int(r.get(i))))
            }
            other => Box::new(ops::iterate(other)?.into_iter()),
        };
        for item in items {
            self.check_interrupt()?;
            self.assign(&s.target, item).await?;
            if self.exec_suite(&s.body).await? == Flow::Break {
                return Ok(Flow::Normal);
            }
        }
        self.exec_suite(&s.orelse).await
    }

    async fn aug_assign(&mut self, s: &ast::StmtAugAssign) -> Result<(), PyError> {
        let rhs = self.eval(&s.value).await?;
        match &*s.target {
            Expr::Name(n) => {
                let current = self.lookup(n.id.as_str())?;
                let new = in_place(s.op, &current, &rhs)?;
                self.globals.insert(n.id.to_string(), new);
            }
            Expr::Subscript(sub) => {
                let container = self.eval(&sub.value).await?;
                let key = self.eval(&sub.slice).await?;
                let current = ops::subscript(&container, &key)?;
                let new = in_place(s.op, &current, &rhs)?;
                ops::set_item(&container, key, new)?;
            }
            Expr::Attribute(a) => return Err(attribute_assignment(a)),
            _ => {
                return Err(PyError::new(
                    "SyntaxError",
                    "illegal expression for augmented assignment",
                ));
            }
        }
        Ok(())
    }

    /// Binds `value` to an assignment target.
    pub fn assign<'a>(&'a mut self, target: &'a Expr, value: Value) -> Fut<'a, ()> {
        Box::pin(async move {
            match target {
                Expr::Name(n) => {
                    self.globals.insert(n.id.to_string(), value);
                }
                Expr::Tuple(ast::ExprTuple { elts, .. })
                | Expr::List(ast::ExprList { elts, .. }) => {
                    let items = ops::iterate(&value)?;
                    if items.len() != elts.len() {
                        return Err(PyError::value_error(if items.len() > elts.len() {
                            format!("too many values to unpack (expected {})", elts.len())
                        } else {
                            format!(
                                "not enough values to unpack (expected {}, got {})",
                                elts.len(),
                                items.len()
                            )
                        }));
                    }
                    for (t, v) in elts.iter().zip(items) {
                        self.assign(t, v).await?;
                    }
                }
                Expr::Subscript(s) => {
                    let container = self.eval(&s.value).await?;
                    let key = self.eval(&s.slice).await?;
                    ops::set_item(&container, key, value)?;
                }
                Expr::Attribute(a) => {
                    let target = self.eval(&a.value).await?;
                    let set = match &target {
                        Value::Obj(o) => super::environment::set_attr(o, a.attr.as_str(), value),
                        _ => None,
                    };
                    set.ok_or_else(|| attribute_assignment(a))??;
                }
                _ => return Err(PyError::new("SyntaxError", "cannot assign to expression")),
            }
            Ok(())
        })
    }

    /// A variable, else a built-in.
    pub fn lookup(&self, name: &str) -> Result<Value, PyError> {
        if let Some(v) = self.globals.get(name) {
            return Ok(v.clone());
        }
        Builtin::lookup(name).map(Value::Builtin).ok_or_else(|| {
            let hint = match name {
                "os" | "shutil" => format!(" (add `import {name}`)"),
                "Workspace" | "Experiment" | "Run" | "ScriptRunConfig" | "Datastore" => {
                    format!(" (add `from azureml.core import {name}`)")
                }
                _ => String::new(),
            };
            PyError::new("NameError", format!("name '{name}' is not defined{hint}"))
        })
    }

    /// Evaluates an expression.
    pub fn eval<'a>(&'a mut self, e: &'a Expr) -> Fut<'a, Value> {
        Box::pin(async move { self.eval_inner(e).await })
    }

    async fn eval_inner(&mut self, e: &Expr) -> Result<Value, PyError> {
        Ok(match e {
            Expr::NoneLiteral(_) => Value::None,
            Expr::BooleanLiteral(b) => Value::Bool(b.value),
            Expr::NumberLiteral(n) => match &n.value {
                ast::Number::Int(i) => Value::Int(i.as_i64().ok_or_else(|| {
                    PyError::new(
                        "OverflowError",
                        "integers beyond 64 bits are not supported in Runboard notebooks",
                    )
                })?),
                ast::Number::Float(f) => Value::Float(*f),
                ast::Number::Complex { .. } => {
                    return Err(PyError::unsupported("complex numbers are"));
                }
            },
            Expr::StringLiteral(s) => Value::str(s.value.to_str()),
            Expr::BytesLiteral(b) => Value::Bytes(Rc::from(b.value.bytes().collect::<Vec<u8>>())),
            Expr::FString(f) => {
                let mut out = String::new();
                for part in f.value.as_slice() {
                    match part {
                        ast::FStringPart::Literal(l) => out.push_str(l.as_str()),
                        ast::FStringPart::FString(fs) => {
                            out.push_str(&self.interpolate(&fs.elements).await?);
                        }
                    }
                }
                Value::str(&out)
            }
            Expr::Name(n) => self.lookup(n.id.as_str())?,
            Expr::List(l) => Value::list(self.eval_all(&l.elts).await?),
            Expr::Tuple(t) => Value::tuple(self.eval_all(&t.elts).await?),
            Expr::Set(s) => {
                let mut items: Vec<Value> = Vec::new();
                for v in self.eval_all(&s.elts).await? {
                    super::value::check_hashable(&v)?;
                    if !items.iter().any(|w| super::value::py_eq(w, &v)) {
                        items.push(v);
                    }
                }
                Value::Set(Rc::new(std::cell::RefCell::new(items)))
            }
            Expr::Dict(d) => {
                let mut dict = super::value::Dict::default();
                for item in &d.items {
                    let Some(key) = &item.key else {
                        return Err(PyError::unsupported("`**` unpacking in dict displays is"));
                    };
                    let k = self.eval(key).await?;
                    let v = self.eval(&item.value).await?;
                    dict.insert(k, v)?;
                }
                Value::dict(dict)
            }
            Expr::BinOp(b) => {
                let left = self.eval(&b.left).await?;
                let right = self.eval(&b.right).await?;
                ops::binary(b.op, &left, &right)?
            }
            Expr::UnaryOp(u) => {
                let v = self.eval(&u.operand).await?;
                ops::unary(u.op, &v)?
            }
            Expr::BoolOp(b) => {
                let mut last = Value::None;
                for (i, value) in b.values.iter().enumerate() {
                    last = self.eval(value).await?;
                    let done = match b.op {
                        ast::BoolOp::And => !last.truthy(),
                        ast::BoolOp::Or => last.truthy(),
                    };
                    if done || i + 1 == b.values.len() {
                        break;
                    }
                }
                last
            }
            Expr::Compare(c) => {
                let mut left = self.eval(&c.left).await?;
                for (op, right) in c.ops.iter().zip(c.comparators.iter()) {
                    let right = self.eval(right).await?;
                    if !ops::compare(*op, &left, &right)? {
                        return Ok(Value::Bool(false));
                    }
                    left = right;
                }
                Value::Bool(true)
            }
            Expr::If(i) => {
                if self.eval(&i.test).await?.truthy() {
                    self.eval(&i.body).await?
                } else {
                    self.eval(&i.orelse).await?
                }
            }
            Expr::Attribute(a) => {
                let value = self.eval(&a.value).await?;
                self.get_attr(value, a.attr.as_str()).await?
            }
            Expr::Subscript(s) => {
                let value = self.eval(&s.value).await?;
                match &*s.slice {
                    Expr::Slice(slice) => {
                        let lower = self.slice_bound(slice.lower.as_deref()).await?;
                        let upper = self.slice_bound(slice.upper.as_deref()).await?;
                        let step = self.slice_bound(slice.step.as_deref()).await?;
                        ops::slice(&value, lower, upper, step)?
                    }
                    key => {
                        let key = self.eval(key).await?;
                        ops::subscript(&value, &key)?
                    }
                }
            }
            Expr::Call(c) => {
                let func = self.eval(&c.func).await?;
                let mut args = Args::default();
                for arg in &c.arguments.args {
                    let v = self.eval(arg).await?;
                    args.positional.push(v);
                }
                for keyword in &c.arguments.keywords {
                    let Some(name) = &keyword.arg else {
                        return Err(PyError::unsupported("`**kwargs` in calls is"));
                    };
                    let v = self.eval(&keyword.value).await?;
                    args.keywords.push((name.as_str().to_owned(), v));
                }
                self.call(func, args).await?
            }
            other => {
                return Err(PyError::unsupported(&format!(
                    "this expression ({}) is",
                    expr_kind(other)
                )));
            }
        })
    }

    async fn eval_all(&mut self, exprs: &[Expr]) -> Result<Vec<Value>, PyError> {
        let mut out = Vec::with_capacity(exprs.len());
        for e in exprs {
            let v = self.eval(e).await?;
            out.push(v);
        }
        Ok(out)
    }

    async fn slice_bound(&mut self, e: Option<&Expr>) -> Result<Option<i64>, PyError> {
        let Some(e) = e else { return Ok(None) };
        match self.eval(e).await? {
            Value::None => Ok(None),
            v => match number(&v) {
                Some(Num::Int(i)) => Ok(Some(i)),
                _ => Err(PyError::type_error(
                    "slice indices must be integers or None",
                )),
            },
        }
    }

    /// The text of an f-string's elements (also used for nested format specs).
    fn interpolate<'a>(
        &'a mut self,
        elements: &'a ast::InterpolatedStringElements,
    ) -> Fut<'a, String> {
        Box::pin(async move {
            let mut out = String::new();
            for element in elements.iter() {
                match element {
                    ast::InterpolatedStringElement::Literal(l) => out.push_str(&l.value),
                    ast::InterpolatedStringElement::Interpolation(i) => {
                        let value = self.eval(&i.expression).await?;
                        let mut conversion = i.conversion;
                        if let Some(debug) = &i.debug_text {
                            out.push_str(debug.leading());
                            out.push_str(debug.expression());
                            out.push_str(debug.trailing());
                            // `f"{x=}"` shows the repr unless a spec or conversion is given.
                            if conversion == ast::ConversionFlag::None && i.format_spec.is_none() {
                                conversion = ast::ConversionFlag::Repr;
                            }
                        }
                        let value = match conversion {
                            ast::ConversionFlag::None => value,
                            ast::ConversionFlag::Str => Value::str(&value.to_str()),
                            ast::ConversionFlag::Repr | ast::ConversionFlag::Ascii => {
                                Value::str(&value.repr())
                            }
                        };
                        let spec = match &i.format_spec {
                            Some(spec) => self.interpolate(&spec.elements).await?,
                            None => String::new(),
                        };
                        out.push_str(&format_value(&value, &spec)?);
                    }
                }
            }
            Ok(out)
        })
    }

    /// Calls a function, a class or a bound method.
    pub fn call(&mut self, func: Value, args: Args) -> Fut<'_, Value> {
        Box::pin(async move {
            match func {
                Value::Builtin(b) => self.call_builtin(b, args).await,
                Value::Method(m) => {
                    let (receiver, name) = (&m.0, m.1);
                    match receiver {
                        Value::Obj(obj) => self.call_obj_method(obj.clone(), name, args).await,
                        Value::Builtin(Builtin::Class(class)) => {
                            self.call_static(*class, name, args).await
                        }
                        other => super::methods::call_method(self, other, name, args).await,
                    }
                }
                other => Err(PyError::type_error(format!(
                    "'{}' object is not callable",
                    other.type_name()
                ))),
            }
        })
    }

    /// `value.name`.
    pub fn get_attr<'a>(&'a mut self, value: Value, name: &'a str) -> Fut<'a, Value> {
        Box::pin(async move {
            let missing = |v: &Value| {
                PyError::new(
                    "AttributeError",
                    format!("'{}' object has no attribute '{name}'", v.type_name()),
                )
            };
            match &value {
                Value::Module(module) => modules::attr(module, name),
                Value::Obj(obj) => self.obj_attr(obj.clone(), name).await,
                Value::Builtin(Builtin::Class(class)) => super::sdk::class_attr(*class, name)
                    .ok_or_else(|| {
                        PyError::new(
                            "AttributeError",
                            format!("type object '{}' has no attribute '{name}'", class.name()),
                        )
                    }),
                other => super::methods::method_name(other, name)
                    .map(|m| Value::method(value.clone(), m))
                    .ok_or_else(|| missing(other)),
            }
        })
    }
}

/// `x op= y`: lists extend in place, as in Python; everything else rebinds.
fn in_place(op: ast::Operator, current: &Value, rhs: &Value) -> Result<Value, PyError> {
    if let (ast::Operator::Add, Value::List(list)) = (op, current) {
        let items = ops::iterate(rhs)?;
        list.borrow_mut().extend(items);
        return Ok(current.clone());
    }
    ops::binary(op, current, rhs)
}

fn attribute_assignment(a: &ast::ExprAttribute) -> PyError {
    PyError::unsupported(&format!(
        "setting attributes (`….{} = …`) is",
        a.attr.as_str()
    ))
}

/// A short name for an expression kind, for messages.
fn expr_kind(e: &Expr) -> &'static str {
    match e {
        Expr::Lambda(_) => "lambda",
        Expr::ListComp(_) => "list comprehension",
        Expr::Generator(_) => "generator expression",
        Expr::Starred(_) => "starred expression",
        Expr::Slice(_) => "slice",
        _ => "expression",
    }
}
