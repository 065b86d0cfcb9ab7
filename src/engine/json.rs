//! A small, strict JSON reader for engine API and CLI answers. They may
//! carry container-controlled strings (names, labels), so input is
//! bounded by the caller and nesting depth here.

/// A JSON value. Numbers keep their text; callers parse what they need.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

const MAX_DEPTH: usize = 64;

impl Json {
    /// Parses a whole document; trailing bytes other than white space are
    /// an error.
    pub fn parse(b: &[u8]) -> Option<Json> {
        let mut p = Parser { b, i: 0 };
        let v = p.value(0, true)?;
        p.ws();
        (p.i == b.len()).then_some(v)
    }

    /// Calls `f` with the text of each element of the array that `b`
    /// holds, for the first `max` of them, each checked to be well-formed
    /// (as [`Json::parse`] would) but built into nothing. For a large list
    /// of which a caller wants a few fields per element: parsing one
    /// element at a time takes the memory of one element, not of the
    /// list. Elements after the `max`th are not looked at. `None` when `b`
    /// is not an array, or is malformed before its end or its `max`th
    /// element.
    pub fn each_element<'a>(b: &'a [u8], max: usize, mut f: impl FnMut(&'a [u8])) -> Option<()> {
        let mut p = Parser { b, i: 0 };
        p.eat(b'[')?;
        if p.eat(b']').is_none() {
            for _ in 0..max {
                p.ws();
                let start = p.i;
                p.value(1, false)?;
                f(&b[start..p.i]);
                if p.eat(b',').is_none() {
                    p.eat(b']')?;
                    p.ws();
                    return (p.i == b.len()).then_some(());
                }
            }
            return Some(());
        }
        p.ws();
        (p.i == b.len()).then_some(())
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follows a path of object keys.
    pub fn at(&self, path: &[&str]) -> Option<&Json> {
        path.iter().try_fold(self, |v, k| v.get(k))
    }

    pub fn str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// An integer number.
    pub fn int(&self) -> Option<i64> {
        match self {
            Json::Num(n) => n.parse().ok(),
            _ => None,
        }
    }

    pub fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(a) => a,
            _ => &[],
        }
    }

    pub fn obj(&self) -> &[(String, Json)] {
        match self {
            Json::Obj(m) => m,
            _ => &[],
        }
    }
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    /// One value; with `build` false it is only checked, and `Null` stands
    /// for it (nothing is allocated).
    fn value(&mut self, depth: usize, build: bool) -> Option<Json> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        match *self.b.get(self.i)? {
            b'{' => {
                self.i += 1;
                let mut m = Vec::new();
                if self.eat(b'}').is_some() {
                    return Some(Json::Obj(m));
                }
                loop {
                    self.ws();
                    let k = self.string(build)?;
                    self.eat(b':')?;
                    let v = self.value(depth + 1, build)?;
                    if build {
                        m.push((k, v));
                    }
                    if self.eat(b',').is_none() {
                        self.eat(b'}')?;
                        return Some(Json::Obj(m));
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut a = Vec::new();
                if self.eat(b']').is_some() {
                    return Some(Json::Arr(a));
                }
                loop {
                    let v = self.value(depth + 1, build)?;
                    if build {
                        a.push(v);
                    }
                    if self.eat(b',').is_none() {
                        self.eat(b']')?;
                        return Some(Json::Arr(a));
                    }
                }
            }
            b'"' => self.string(build).map(Json::Str),
            b't' => self.word(b"true", Json::Bool(true)),
            b'f' => self.word(b"false", Json::Bool(false)),
            b'n' => self.word(b"null", Json::Null),
            _ => {
                let start = self.i;
                while self.i < self.b.len()
                    && matches!(
                        self.b[self.i],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.i += 1;
                }
                let n = &self.b[start..self.i];
                if !build {
                    return number(n).then_some(Json::Null);
                }
                number(n).then(|| Json::Num(String::from_utf8_lossy(n).into_owned()))
            }
        }
    }

    fn word(&mut self, w: &[u8], v: Json) -> Option<Json> {
        self.b[self.i..].starts_with(w).then(|| {
            self.i += w.len();
            v
        })
    }

    /// A string; with `build` false it is only checked, and comes back
    /// empty (nothing is allocated).
    fn string(&mut self, build: bool) -> Option<String> {
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        self.i += 1;
        let start = self.i;
        let mut out = Vec::new();
        loop {
            let c = *self.b.get(self.i)?;
            self.i += 1;
            let mut buf = [0u8; 4];
            let add: &[u8] = match c {
                // Unbuilt, the raw text is checked: escapes are ASCII, and
                // what `\u` gives is always a valid character.
                b'"' if !build => {
                    return std::str::from_utf8(&self.b[start..self.i - 1])
                        .ok()
                        .map(|_| String::new())
                }
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.b.get(self.i)?;
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => &self.b[self.i - 1..self.i],
                        b'b' => &[8],
                        b'f' => &[12],
                        b'n' => b"\n",
                        b'r' => b"\r",
                        b't' => b"\t",
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xd800..0xdc00).contains(&cp) {
                                if self.b.get(self.i..self.i + 2)? != b"\\u" {
                                    return None;
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return None;
                                }
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                            }
                            char::from_u32(cp)?.encode_utf8(&mut buf).as_bytes()
                        }
                        _ => return None,
                    }
                }
                c if c < 0x20 => return None,
                _ => &self.b[self.i - 1..self.i],
            };
            if build {
                out.extend_from_slice(add);
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        // Four hex digits: from_str_radix alone would also take a sign.
        let h = std::str::from_utf8(self.b.get(self.i..self.i + 4)?)
            .ok()
            .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))?;
        self.i += 4;
        u32::from_str_radix(h, 16).ok()
    }
}

/// Whether `n` is a JSON number: `-? (0 | [1-9][0-9]*) (. [0-9]+)?
/// ([eE] [+-]? [0-9]+)?`. (Checked by hand: a float parser would be a
/// tenth of cntr's size.)
fn number(n: &[u8]) -> bool {
    let mut i = 0;
    let digits = |i: &mut usize| {
        let s = *i;
        while n.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > s
    };
    if n.get(i) == Some(&b'-') {
        i += 1;
    }
    match n.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if n.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(n.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(n.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == n.len()
}

/// A JSON string literal of arbitrary bytes (invalid UTF-8 replaced,
/// control characters escaped).
pub fn quote(b: &[u8]) -> String {
    let mut out = String::from("\"");
    for c in String::from_utf8_lossy(b).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_inspect() {
        let j = Json::parse(br#"{"Id":"34b4","Name":"/web","State":{"Running":true,"Pid":26490},"Config":{"Labels":{"a\u00e9\ud83d\ude00":"x\"y"}},"Args":["infinity"],"N":null,"F":-1.5e3}"#).unwrap();
        assert_eq!(j.at(&["State", "Pid"]).and_then(Json::int), Some(26490));
        assert_eq!(j.at(&["State", "Running"]).and_then(Json::bool), Some(true));
        assert_eq!(j.get("Name").and_then(Json::str), Some("/web"));
        assert_eq!(
            j.at(&["Config", "Labels"]).unwrap().obj()[0],
            ("aé😀".to_string(), Json::Str("x\"y".into()))
        );
        assert_eq!(j.get("Args").unwrap().arr().len(), 1);
    }

    #[test]
    fn elements_one_at_a_time() {
        let b = br#" [ {"id":"a"} , [1,2], "x\"y" ,null ] "#;
        let mut got = Vec::new();
        assert!(Json::each_element(b, 10, |e| got.push(e)).is_some());
        assert_eq!(
            got,
            [&br#"{"id":"a"}"#[..], b"[1,2]", br#""x\"y""#, b"null"]
        );
        // Past the first `max`, nothing is looked at.
        got.clear();
        assert!(Json::each_element(b"[1,2,oops", 2, |e| got.push(e)).is_some());
        assert_eq!(got, [b"1", b"2"]);
        for bad in [
            &b"[1,,2]"[..],
            b"{}",
            b"[] x",
            b"[1 2]",
            b"[\"\xff\"]",
            b"[\"\\ud800\"]",
            b"[01]",
        ] {
            assert!(
                Json::each_element(bad, 10, |_| {}).is_none(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(Json::each_element(deep.as_bytes(), 10, |_| {}).is_none());
        assert!(Json::each_element(b" [ ] ", 10, |_| {}).is_some());
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            &b"{"[..],
            b"[1,]",
            b"{\"a\" 1}",
            b"\"\\x\"",
            b"\"\x01\"",
            b"tru",
            b"1 2",
            b"\"\\ud800\"",
            b"\"\\u+041\"",
            b"{} x",
        ] {
            assert!(
                Json::parse(bad).is_none(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(Json::parse(deep.as_bytes()).is_none());
        assert_eq!(Json::parse(b" [ ] "), Some(Json::Arr(vec![])));
        for good in ["0", "-1", "12.5", "1e9", "-0.5E-3"] {
            assert!(number(good.as_bytes()), "{good}");
        }
        for bad in ["", "-", "01", "1.", ".5", "1e", "+1", "1-2", "--1"] {
            assert!(!number(bad.as_bytes()), "{bad}");
        }
    }
}
