//! Tokens of a `$filter` expression: words, quoted strings (`''` escapes a quote) and
//! punctuation.

use crate::dataverse::errors::{ApiError, ODATA};

/// A token.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A bare word: name, keyword, number, GUID or date literal.
    Word(String),
    /// A quoted string literal (quotes removed, `''` unescaped).
    Str(String),
    /// `(`.
    Open,
    /// `)`.
    Close,
    /// `,`.
    Comma,
    /// `[`.
    OpenBracket,
    /// `]`.
    CloseBracket,
    /// `=`.
    Equals,
}

/// Splits a filter into tokens with their byte positions.
pub fn lex(input: &str) -> Result<Vec<(usize, Tok)>, ApiError> {
    let chars: Vec<(usize, char)> = input.char_indices().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let single = match c {
            '(' => Some(Tok::Open),
            ')' => Some(Tok::Close),
            ',' => Some(Tok::Comma),
            '[' => Some(Tok::OpenBracket),
            ']' => Some(Tok::CloseBracket),
            '=' => Some(Tok::Equals),
            _ => None,
        };
        if c.is_whitespace() {
            i += 1;
        } else if let Some(tok) = single {
            tokens.push((at, tok));
            i += 1;
        } else if c == '\'' {
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    Some((_, '\'')) if chars.get(i + 1).is_some_and(|(_, c)| *c == '\'') => {
                        text.push('\'');
                        i += 2;
                    }
                    Some((_, '\'')) => break,
                    Some((_, c)) => {
                        text.push(*c);
                        i += 1;
                    }
                    None => {
                        return Err(ApiError::bad_request(
                            ODATA,
                            format!(
                                "There is an unterminated string literal at position {at} in '{input}'."
                            ),
                        ));
                    }
                }
            }
            i += 1;
            tokens.push((at, Tok::Str(text)));
        } else {
            let start = i;
            while i < chars.len() && !chars[i].1.is_whitespace() && !"(),[]='".contains(chars[i].1)
            {
                i += 1;
            }
            tokens.push((at, Tok::Word(chars[start..i].iter().map(|(_, c)| c).collect())));
        }
    }
    Ok(tokens)
}
