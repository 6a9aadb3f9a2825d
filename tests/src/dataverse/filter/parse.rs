//! Lexing and parsing `$filter` into an [`Expr`], type-checking literals against the columns.
//! Error texts are ODataLib's (the OData layer of the Web API).

use uuid::Uuid;

use super::{
    Expr, Op, TextFn, edm,
    lex::{Tok, lex},
};
use crate::dataverse::{
    body::parse_date,
    errors::{ApiError, ODATA},
    metadata::{Attr, Kind, Table},
    query::column,
    store::Cell,
};

/// Parses a `$filter` value for `table`.
pub fn parse(table: &'static Table, input: &str) -> Result<Expr, ApiError> {
    let tokens = lex(input)?;
    let mut parser = Parser { table, input, tokens, pos: 0 };
    let expr = parser.or()?;
    if parser.pos < parser.tokens.len() {
        return Err(parser.syntax());
    }
    Ok(expr)
}

struct Parser<'a> {
    table: &'static Table,
    input: &'a str,
    tokens: Vec<(usize, Tok)>,
    pos: usize,
}

impl Parser<'_> {
    fn syntax(&self) -> ApiError {
        let at = self.tokens.get(self.pos).map_or(self.input.len(), |(p, _)| *p);
        ApiError::bad_request(ODATA, format!("Syntax error at position {at} in '{}'.", self.input))
    }

    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }

    fn next(&mut self) -> Result<Tok, ApiError> {
        let tok = self.tokens.get(self.pos).map(|(_, t)| t.clone()).ok_or_else(|| self.syntax())?;
        self.pos += 1;
        Ok(tok)
    }

    fn expect(&mut self, tok: Tok) -> Result<(), ApiError> {
        if self.peek() == Some(&tok) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Word(w)) if w == word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Expr, ApiError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ApiError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, ApiError> {
        if self.keyword("not") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Tok::Open) {
            self.pos += 1;
            let inner = self.or()?;
            self.expect(Tok::Close)?;
            return Ok(inner);
        }
        let Tok::Word(name) = self.next()? else { return Err(self.syntax()) };
        if self.peek() == Some(&Tok::Open) {
            self.pos += 1;
            return self.function(&name);
        }
        let attr = self.column(&name)?;
        let op = match self.next()? {
            Tok::Word(w) => match w.as_str() {
                "eq" => Op::Eq,
                "ne" => Op::Ne,
                "gt" => Op::Gt,
                "ge" => Op::Ge,
                "lt" => Op::Lt,
                "le" => Op::Le,
                _ => return Err(self.syntax()),
            },
            _ => return Err(self.syntax()),
        };
        let literal = self.literal()?;
        Ok(Expr::Compare(attr, op, self.typed(attr, literal, op)?))
    }

    fn column(&self, name: &str) -> Result<&'static Attr, ApiError> {
        let attr = column(self.table, name)?;
        // `$filter` on the email body is unsupported (`PAD:email-activity-entities.md`); the
        // wording of the refusal is UNCONFIRMED.
        if self.table.logical == "email" && matches!(attr.name, "description" | "safedescription") {
            return Err(ApiError::bad_request(
                ODATA,
                format!(
                    "The attribute '{}' of entity 'email' cannot be used in a filter.",
                    attr.name
                ),
            ));
        }
        Ok(attr)
    }

    fn function(&mut self, name: &str) -> Result<Expr, ApiError> {
        let text = match name {
            "contains" => Some(TextFn::Contains),
            "startswith" => Some(TextFn::StartsWith),
            "endswith" => Some(TextFn::EndsWith),
            _ => None,
        };
        if let Some(f) = text {
            let Tok::Word(column) = self.next()? else { return Err(self.syntax()) };
            let attr = self.column(&column)?;
            self.expect(Tok::Comma)?;
            let Tok::Str(needle) = self.next()? else { return Err(self.syntax()) };
            self.expect(Tok::Close)?;
            if edm(&attr.kind) != "Edm.String" {
                return Err(ApiError::bad_request(
                    ODATA,
                    format!(
                        "No function signature for the function with name '{name}' matches the specified arguments. The function signatures considered are: {name}(Edm.String Nullable=true, Edm.String Nullable=true)."
                    ),
                ));
            }
            return Ok(Expr::Text(attr, f, needle));
        }
        if name == "Microsoft.Dynamics.CRM.In" {
            return self.in_function();
        }
        if name.starts_with("Microsoft.Dynamics.CRM.") {
            return Err(ApiError::not_implemented(&format!("the query function {name}")));
        }
        Err(ApiError::bad_request(
            ODATA,
            format!(
                "An unknown function with name '{name}' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed."
            ),
        ))
    }

    /// `Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=['a','b'])`; the values are
    /// strings whatever the column type (filter-rows doc).
    fn in_function(&mut self) -> Result<Expr, ApiError> {
        if !self.keyword("PropertyName") {
            return Err(self.syntax());
        }
        self.expect(Tok::Equals)?;
        let Tok::Str(column) = self.next()? else { return Err(self.syntax()) };
        let attr = self.column(&column)?;
        self.expect(Tok::Comma)?;
        if !self.keyword("PropertyValues") {
            return Err(self.syntax());
        }
        self.expect(Tok::Equals)?;
        self.expect(Tok::OpenBracket)?;
        let mut values = Vec::new();
        loop {
            let Tok::Str(text) = self.next()? else { return Err(self.syntax()) };
            let cell = from_text(&attr.kind, &text).ok_or_else(|| {
                ApiError::bad_request(
                    ODATA,
                    format!("The value '{text}' is not valid for the property '{column}'."),
                )
            })?;
            values.push(cell);
            match self.next()? {
                Tok::Comma => continue,
                Tok::CloseBracket => break,
                _ => return Err(self.syntax()),
            }
        }
        self.expect(Tok::Close)?;
        Ok(Expr::In(attr, values))
    }

    fn literal(&mut self) -> Result<Literal, ApiError> {
        Ok(match self.next()? {
            Tok::Str(s) => Literal::Str(s),
            Tok::Word(w) => match w.as_str() {
                "null" => Literal::Null,
                "true" => Literal::Bool(true),
                "false" => Literal::Bool(false),
                _ if w.len() == 36 && Uuid::parse_str(&w).is_ok() => {
                    Literal::Guid(Uuid::parse_str(&w).expect("checked"))
                }
                _ => {
                    if let Ok(n) = w.parse::<i64>() {
                        Literal::Int(n)
                    } else if let Ok(f) = w.parse::<f64>() {
                        Literal::Float(f)
                    } else if let Some(d) = parse_date(&w).or_else(|| date_only(&w)) {
                        Literal::Date(d)
                    } else {
                        self.pos -= 1;
                        return Err(self.syntax());
                    }
                }
            },
            _ => {
                self.pos -= 1;
                return Err(self.syntax());
            }
        })
    }

    /// Checks the literal's type against the column's, as ODataLib's binder does.
    fn typed(&self, attr: &Attr, literal: Literal, op: Op) -> Result<Option<Cell>, ApiError> {
        let column = edm(&attr.kind);
        let (literal_edm, cell) = match literal {
            Literal::Null => return Ok(None),
            Literal::Str(s) => ("Edm.String", Cell::Str(s)),
            Literal::Int(n) => ("Edm.Int32", Cell::Int(n)),
            Literal::Float(f) => ("Edm.Double", Cell::Float(f)),
            Literal::Bool(b) => ("Edm.Boolean", Cell::Bool(b)),
            Literal::Guid(g) => ("Edm.Guid", Cell::Guid(g)),
            Literal::Date(d) => ("Edm.DateTimeOffset", Cell::Date(d)),
        };
        let numeric = |t: &str| matches!(t, "Edm.Int32" | "Edm.Int64" | "Edm.Double");
        if column == literal_edm || (numeric(column) && numeric(literal_edm)) {
            Ok(Some(cell))
        } else {
            Err(ApiError::bad_request(
                ODATA,
                format!(
                    "A binary operator with incompatible types was detected. Found operand types '{column}' and '{literal_edm}' for operator kind '{}'.",
                    op.kind_name()
                ),
            ))
        }
    }
}

enum Literal {
    Null,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Guid(Uuid),
    Date(time::OffsetDateTime),
}

/// An `Edm.Date` literal (`2025-01-01`), compared as midnight UTC.
fn date_only(word: &str) -> Option<time::OffsetDateTime> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Some(time::Date::parse(word, format).ok()?.midnight().assume_utc())
}

/// A value given as text (the `In` function's `PropertyValues`) converted to the column type.
fn from_text(kind: &Kind, text: &str) -> Option<Cell> {
    Some(match edm(kind) {
        "Edm.String" => Cell::Str(text.to_string()),
        "Edm.Int32" | "Edm.Int64" => Cell::Int(text.parse().ok()?),
        "Edm.Boolean" => Cell::Bool(text.parse().ok()?),
        "Edm.DateTimeOffset" => Cell::Date(parse_date(text)?),
        _ => Cell::Guid(Uuid::parse_str(text).ok()?),
    })
}
