//! The little DER this crate reads itself: an RSA `RSAPublicKey` (RFC 8017 A.1.1), to measure
//! the modulus and normalise RSA keys to their components.

/// One tag-length-value; definite lengths up to 64 KiB, as every key here is.
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81 => {
            let (&len, rest) = rest.split_first()?;
            (usize::from(len), rest)
        }
        0x82 => {
            let (bytes, rest) = rest.split_at_checked(2)?;
            (usize::from(u16::from_be_bytes([bytes[0], bytes[1]])), rest)
        }
        _ => return None,
    };
    let (value, rest) = rest.split_at_checked(len)?;
    Some((tag, value, rest))
}

/// A positive INTEGER's magnitude without the sign byte.
fn positive_integer(value: &[u8]) -> Option<&[u8]> {
    match value {
        [] => None,
        [first, ..] if *first & 0x80 != 0 => None,
        [0, rest @ ..] if !rest.is_empty() => Some(rest),
        _ => Some(value),
    }
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` → `(n, e)`.
pub(crate) fn rsa_public_key(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (0x30, body, []) = read_tlv(der)? else {
        return None;
    };
    let (0x02, n, rest) = read_tlv(body)? else {
        return None;
    };
    let (0x02, e, []) = read_tlv(rest)? else {
        return None;
    };
    Some((positive_integer(n)?, positive_integer(e)?))
}

/// The bit length of a big-endian unsigned integer.
pub(crate) fn bit_len(be: &[u8]) -> usize {
    let trimmed = match be.iter().position(|b| *b != 0) {
        Some(i) => &be[i..],
        None => return 0,
    };
    trimmed.len() * 8 - trimmed[0].leading_zeros() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rsa_public_key_and_rejects_garbage() {
        // SEQUENCE { INTEGER 0x00C3 (positive, sign byte), INTEGER 3 }
        let der = [0x30, 0x07, 0x02, 0x02, 0x00, 0xc3, 0x02, 0x01, 0x03];
        assert_eq!(rsa_public_key(&der), Some((&[0xc3][..], &[3][..])));
        assert_eq!(rsa_public_key(&der[..8]), None);
        assert_eq!(rsa_public_key(&[0x30, 0x00]), None);
        let negative = [0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x03];
        assert_eq!(rsa_public_key(&negative), None);
        let trailing = [0x30, 0x07, 0x02, 0x02, 0x00, 0xc3, 0x02, 0x01, 0x03, 0x00];
        assert_eq!(rsa_public_key(&trailing), None);
    }

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_len(&[0, 0x80, 0]), 16);
        assert_eq!(bit_len(&[1]), 1);
        assert_eq!(bit_len(&[0, 0]), 0);
    }
}
