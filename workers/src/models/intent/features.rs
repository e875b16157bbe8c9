//! Text to sparse features: lower-cased word unigrams and bigrams plus
//! character 3- to 5-grams, hashed into a fixed number of buckets (the
//! hashing trick), L2-normalised.
//!
//! Word n-grams carry meaning; character n-grams make the model tolerant of
//! typos and inflections ("refnd", "cancelling"). FNV-1a is used instead of
//! the std hasher because the hash must be stable across Rust versions: a
//! saved model is only valid if the same text hashes to the same buckets.

/// Number of hash bits: 2^17 buckets (the weight matrix is 2^17 x 17
/// floats, 9 MB): few enough collisions for the distinct n-grams of the
/// shipped training data.
pub const DIM_BITS: u32 = 17;

/// A hashed feature vector.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    /// `(bucket, value)`, sorted by bucket, no duplicates, unit L2 norm.
    pub items: Vec<(u32, f32)>,
    /// Buckets of the word unigrams (for vocabulary coverage).
    pub words: Vec<u32>,
}

/// FNV-1a, 64-bit, with a namespace byte so word and char n-grams of the
/// same spelling land in different buckets.
fn fnv1a(namespace: u8, parts: &[&str], bits: u32) -> u32 {
    let mut hash = Fnv::new(namespace);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hash.feed(b' ');
        }
        part.bytes().for_each(|b| hash.feed(b));
    }
    hash.finish(bits)
}

/// FNV-1a state.
struct Fnv(u64);

impl Fnv {
    fn new(namespace: u8) -> Self {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325);
        h.feed(namespace);
        h
    }

    fn feed(&mut self, byte: u8) {
        self.0 ^= u64::from(byte);
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
    }

    fn finish(&self, bits: u32) -> u32 {
        (self.0 >> (64 - bits)) as u32
    }
}

/// Hash a character n-gram without building a `String` for it.
fn hash_chars(gram: &[char], bits: u32) -> u32 {
    let mut hash = Fnv::new(b'c');
    let mut buf = [0u8; 4];
    for c in gram {
        c.encode_utf8(&mut buf).bytes().for_each(|b| hash.feed(b));
    }
    hash.finish(bits)
}

/// Lower-case words; digits become `0` so order numbers share features;
/// everything that is not a letter, digit or apostrophe separates words.
pub fn words(text: &str) -> Vec<String> {
    let cleaned: String = text
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            '\u{2019}' => '\'',
            c if c.is_ascii_digit() => '0',
            c if c.is_alphanumeric() || c == '\'' => c,
            _ => ' ',
        })
        .collect();
    cleaned
        .split_whitespace()
        .map(|w| w.trim_matches('\'').to_owned())
        .filter(|w| !w.is_empty())
        .collect()
}

/// The features of `text` with `bits` hash bits (canonical words, no
/// spelling correction: see [`super::IntentModel`] for the full path).
#[cfg(test)]
pub fn extract(text: &str, bits: u32) -> Features {
    let words = super::normalize::canonical_words(text);
    let concepts = super::normalize::concepts(&words);
    extract_words(&words, &concepts, bits)
}

/// The features of prepared words and their concept tokens.
pub fn extract_words(words: &[String], concepts: &[&str], bits: u32) -> Features {
    let mut raw: Vec<(u32, f32)> = Vec::with_capacity(words.len() * 8);
    let word_ids: Vec<u32> = words.iter().map(|w| fnv1a(b'w', &[w], bits)).collect();
    raw.extend(word_ids.iter().map(|&id| (id, 1.0)));
    for pair in words.windows(2) {
        raw.push((fnv1a(b'b', &[&pair[0], &pair[1]], bits), 1.0));
    }
    raw.extend(concepts.iter().map(|c| (fnv1a(b'k', &[c], bits), 1.0)));
    let padded: Vec<char> = format!(" {} ", words.join(" ")).chars().collect();
    for n in 3..=5 {
        for gram in padded.windows(n) {
            raw.push((hash_chars(gram, bits), 0.5));
        }
    }
    Features {
        items: normalize(raw),
        words: word_ids,
    }
}

/// Sum duplicate buckets, sort, and scale to unit length.
fn normalize(mut raw: Vec<(u32, f32)>) -> Vec<(u32, f32)> {
    raw.sort_unstable_by_key(|&(id, _)| id);
    let mut merged: Vec<(u32, f32)> = Vec::with_capacity(raw.len());
    for (id, v) in raw {
        match merged.last_mut() {
            Some((last, acc)) if *last == id => *acc += v,
            _ => merged.push((id, v)),
        }
    }
    let norm = merged.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        merged.iter_mut().for_each(|(_, v)| *v /= norm);
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_lowercase_and_mask_digits() {
        assert_eq!(
            words("Where's ORDER #10234?!"),
            vec!["where's", "order", "00000"]
        );
    }

    #[test]
    fn features_are_stable_and_normalised() {
        let a = extract("Cancel my order", DIM_BITS);
        assert_eq!(a, extract("cancel  MY order!", DIM_BITS));
        let norm: f32 = a.items.iter().map(|(_, v)| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-4);
        assert_eq!(a.words.len(), 3);
        assert!(extract("", DIM_BITS).items.is_empty());
    }
}
