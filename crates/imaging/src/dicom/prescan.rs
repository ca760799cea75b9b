//! A structural check of a DICOM file's bytes before dicom-rs reads them.
//!
//! dicom-rs trusts an element's declared value length: it reserves that many bytes and then
//! reads until the file ends. A 2 kB file whose element declares a 4 GB value therefore costs
//! gigabytes of memory before the read fails (found by the `dicom_file` fuzz target; the file is
//! kept in `fuzz/regressions/`). Sequences nested thousands of levels deep cost stack in the
//! same way. This module walks the element headers — the file meta group, the data set in its
//! transfer syntax, sequences and their items (defined and undefined length) and encapsulated
//! pixel data fragments — and refuses, naming the element's tag and byte offset:
//!
//! - a value, item or sequence whose declared length is larger than what remains of the file;
//! - sequences nested deeper than [`MAX_DEPTH`] levels;
//! - the deflated transfer syntax, which would be inflated before any check (the RT readers only
//!   decode native transfer syntaxes anyway);
//! - a binary value (US, UL, FD, OW, …) whose length is not a whole number of its values
//!   (dicom-rs would read on out of step with the headers);
//! - an item or delimiter where the structure does not allow one, or a file meta element of
//!   undefined length (dicom-rs would read on past it, trusting whatever lengths follow; found
//!   by the same fuzz target, kept in `fuzz/regressions/` too).
//!
//! Headers are read the way dicom-rs reads them (an unknown VR code as UN, with a 32-bit length).
//! Where a header is cut by the end of the file the walk stops and leaves the verdict to
//! dicom-rs, which then fails with its own error (no length was read, so nothing is reserved).
//! It never refuses a well-formed file.

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_core::{Tag, VR};
use dicom_dictionary_std::StandardDataDictionary;

/// The deepest sequence nesting accepted (real RT objects use fewer than ten levels).
pub(crate) const MAX_DEPTH: usize = 64;

const UNDEFINED: u32 = u32::MAX;
const ITEM: Tag = Tag(0xFFFE, 0xE000);
const ITEM_END: Tag = Tag(0xFFFE, 0xE00D);
const SEQUENCE_END: Tag = Tag(0xFFFE, 0xE0DD);
const TRANSFER_SYNTAX_UID: Tag = Tag(0x0002, 0x0010);
const DEFLATED: &str = "1.2.840.10008.1.2.1.99";

/// How the data set is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// Implicit VR Little Endian (also the content of undefined-length UN elements).
    ImplicitLittle,
    /// Explicit VR Little Endian (and every encapsulated transfer syntax).
    ExplicitLittle,
    /// Explicit VR Big Endian (retired, still readable).
    ExplicitBig,
}

/// What is wrong with the file's structure.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Fault {
    /// The element at fault, as `(gggg,eeee) Keyword` (or without keyword when unknown).
    pub tag: String,
    /// What is wrong, with the byte offset.
    pub message: String,
}

/// Why the walk stopped early.
enum Stop {
    /// The structure is refused.
    Fault(Fault),
    /// Bytes the walk does not understand: dicom-rs decides.
    Unparsed,
}

type Walk = Result<(), Stop>;

/// Checks a Part 10 file (`bytes` from the start of the 128-byte preamble).
pub(crate) fn check_part10(bytes: &[u8]) -> Result<(), Fault> {
    let mut w = Walker { bytes, pos: 132 };
    // The file meta group, read as dicom-rs reads it: explicit VR little endian, (0002,0000) of
    // 4 bytes first, then elements of any group until its group length is used up; the data set
    // starts right after (wherever the elements themselves say the group ends).
    let mut transfer_syntax = None;
    let group_length = match w.header(Encoding::ExplicitLittle) {
        Ok(h) if h.tag == Tag(0x0002, 0x0000) && h.length == 4 && w.remaining() >= 4 => {
            let value = w.u32_at(w.pos, Encoding::ExplicitLittle);
            w.pos += 4;
            value as usize
        }
        // dicom-rs refuses the file without reading further.
        _ => return Ok(()),
    };
    let mut consumed = 0usize;
    while consumed < group_length {
        let at = w.pos;
        let header = match w.header(Encoding::ExplicitLittle) {
            Ok(h) => h,
            Err(stop) => return finish(Err(stop)),
        };
        if header.length == UNDEFINED {
            return finish(Err(misplaced(&header, "with an undefined length in the file meta group")));
        }
        if let Err(stop) = w.check_length(&header) {
            return finish(Err(stop));
        }
        let value = &bytes[w.pos..w.pos + header.length as usize];
        if header.tag == TRANSFER_SYNTAX_UID {
            let uid = String::from_utf8_lossy(value).trim_end_matches(['\0', ' ']).to_owned();
            transfer_syntax = Some(uid);
        }
        w.pos += header.length as usize;
        consumed += w.pos - at;
    }
    let encoding = match transfer_syntax.as_deref() {
        Some(DEFLATED) => {
            return Err(Fault {
                tag: describe(TRANSFER_SYNTAX_UID),
                message: format!("{DEFLATED} (Deflated Explicit VR Little Endian) is not supported; decompress first"),
            });
        }
        Some("1.2.840.10008.1.2") => Encoding::ImplicitLittle,
        Some("1.2.840.10008.1.2.2") => Encoding::ExplicitBig,
        _ => Encoding::ExplicitLittle,
    };
    finish(w.data_set(None, false, encoding, 0))
}

/// Checks a bare data set (no preamble, no file meta group) from its first byte.
pub(crate) fn check_bare(bytes: &[u8], encoding: Encoding) -> Result<(), Fault> {
    finish(Walker { bytes, pos: 0 }.data_set(None, false, encoding, 0))
}

fn finish(walk: Walk) -> Result<(), Fault> {
    match walk {
        Ok(()) | Err(Stop::Unparsed) => Ok(()),
        Err(Stop::Fault(fault)) => Err(fault),
    }
}

/// `(gggg,eeee) Keyword` from the standard dictionary.
fn describe(tag: Tag) -> String {
    let name = match tag {
        ITEM => Some("Item"),
        ITEM_END => Some("ItemDelimitationItem"),
        SEQUENCE_END => Some("SequenceDelimitationItem"),
        _ => StandardDataDictionary.by_tag(tag).map(|e| e.alias()),
    };
    match name {
        Some(name) => format!("({:04X},{:04X}) {name}", tag.group(), tag.element()),
        None => format!("({:04X},{:04X})", tag.group(), tag.element()),
    }
}

/// A header where the structure does not allow it (dicom-rs would read on, trusting lengths
/// that follow).
fn misplaced(header: &Header, place: &str) -> Stop {
    Stop::Fault(Fault {
        tag: describe(header.tag),
        message: format!("found at byte {} {place}: the file's structure is corrupt", header.at),
    })
}

/// Refuses a binary value whose length is not a whole number of its numbers: dicom-rs reads the
/// whole numbers only but counts the declared length, so the bytes after it would be read out of
/// step (found by fuzzing: a UL of 42 bytes shifted the next header by two bytes, into a 4 GB
/// length).
fn check_unit(header: &Header) -> Walk {
    let unit = match header.vr {
        Some(VR::US | VR::SS | VR::OW) => 2,
        Some(VR::UL | VR::SL | VR::FL | VR::OL | VR::OF | VR::AT) => 4,
        Some(VR::FD | VR::OD | VR::SV | VR::UV | VR::OV) => 8,
        _ => 1,
    };
    if !header.length.is_multiple_of(unit) {
        let vr = header.vr.map_or("?", |v| v.to_string());
        return Err(Stop::Fault(Fault {
            tag: describe(header.tag),
            message: format!(
                "value of {} bytes at byte {} is not a whole number of {unit}-byte values (VR {vr}): the file is corrupt",
                header.length, header.at
            ),
        }));
    }
    Ok(())
}

/// An element or item header.
struct Header {
    tag: Tag,
    vr: Option<VR>,
    length: u32,
    /// Byte offset of the header.
    at: usize,
}

struct Walker<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Walker<'_> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn u16_at(&self, at: usize, encoding: Encoding) -> u16 {
        let b = [self.bytes[at], self.bytes[at + 1]];
        if encoding == Encoding::ExplicitBig { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) }
    }

    fn u32_at(&self, at: usize, encoding: Encoding) -> u32 {
        let b = [self.bytes[at], self.bytes[at + 1], self.bytes[at + 2], self.bytes[at + 3]];
        if encoding == Encoding::ExplicitBig { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) }
    }

    /// Reads a header at the current position and moves past it.
    fn header(&mut self, encoding: Encoding) -> Result<Header, Stop> {
        let at = self.pos;
        if self.remaining() < 8 {
            return Err(Stop::Unparsed);
        }
        let tag = Tag(self.u16_at(at, encoding), self.u16_at(at + 2, encoding));
        // Items and delimiters have no VR in any encoding; in explicit VR dicom-rs reads every
        // group FFFE header that way.
        if matches!(tag, ITEM | ITEM_END | SEQUENCE_END)
            || (tag.group() == 0xFFFE && encoding != Encoding::ImplicitLittle)
        {
            self.pos += 8;
            return Ok(Header { tag, vr: None, length: self.u32_at(at + 4, encoding), at });
        }
        if encoding == Encoding::ImplicitLittle {
            self.pos += 8;
            // The VR dicom-rs decodes the value with (its implicit VR decoder): OW for pixel and
            // overlay data, else the dictionary's (context-dependent ones relaxed to US / OW;
            // group lengths (gggg,0000) are UL there), else UN.
            let vr = if tag == Tag(0x7FE0, 0x0010) || (tag.group() >> 8 == 0x60 && tag.element() == 0x3000) {
                VR::OW
            } else {
                StandardDataDictionary.by_tag(tag).map_or(VR::UN, |e| e.vr().relaxed())
            };
            return Ok(Header { tag, vr: Some(vr), length: self.u32_at(at + 4, encoding), at });
        }
        // As dicom-rs does, an unknown VR code is read as UN (reserved bytes, 32-bit length).
        let vr = VR::from_binary([self.bytes[at + 4], self.bytes[at + 5]]).unwrap_or(VR::UN);
        let long = matches!(
            vr,
            VR::OB
                | VR::OD
                | VR::OF
                | VR::OL
                | VR::OV
                | VR::OW
                | VR::SQ
                | VR::SV
                | VR::UC
                | VR::UN
                | VR::UR
                | VR::UT
                | VR::UV
        );
        if long {
            if self.remaining() < 12 {
                return Err(Stop::Unparsed);
            }
            self.pos += 12;
            Ok(Header { tag, vr: Some(vr), length: self.u32_at(at + 8, encoding), at })
        } else {
            self.pos += 8;
            Ok(Header { tag, vr: Some(vr), length: u32::from(self.u16_at(at + 6, encoding)), at })
        }
    }

    /// Refuses a defined length that reaches past the end of the file.
    fn check_length(&self, header: &Header) -> Walk {
        let length = header.length as usize;
        if length > self.remaining() {
            return Err(Stop::Fault(Fault {
                tag: describe(header.tag),
                message: format!(
                    "declares a value of {length} bytes at byte {}, but only {} bytes of the file remain (truncated or corrupt file)",
                    header.at,
                    self.remaining()
                ),
            }));
        }
        Ok(())
    }

    fn check_depth(&self, header: &Header, depth: usize) -> Walk {
        if depth >= MAX_DEPTH {
            return Err(Stop::Fault(Fault {
                tag: describe(header.tag),
                message: format!("sequences are nested more than {MAX_DEPTH} levels deep at byte {}", header.at),
            }));
        }
        Ok(())
    }

    /// Data set elements until `end` (a byte offset), or until its item delimiter when
    /// `delimited` (an undefined-length item), or until the end of the file at the top level.
    fn data_set(&mut self, end: Option<usize>, delimited: bool, encoding: Encoding, depth: usize) -> Walk {
        loop {
            if end.is_some_and(|e| self.pos >= e) || self.remaining() == 0 {
                return Ok(());
            }
            let header = self.header(encoding)?;
            match header.tag {
                ITEM_END if delimited => return Ok(()),
                ITEM_END | SEQUENCE_END | ITEM => {
                    return Err(misplaced(&header, "outside the sequence or item it belongs to"));
                }
                _ => {}
            }
            let sequence = header.vr == Some(VR::SQ)
                || (header.length == UNDEFINED && (encoding == Encoding::ImplicitLittle || header.vr == Some(VR::UN)));
            // The content of an undefined-length UN element is implicit VR little endian.
            let inner = if header.vr == Some(VR::UN) && encoding != Encoding::ImplicitLittle {
                Encoding::ImplicitLittle
            } else {
                encoding
            };
            if header.length == UNDEFINED {
                self.check_depth(&header, depth)?;
                if sequence {
                    self.items(None, inner, depth + 1)?;
                } else {
                    self.fragments()?;
                }
            } else {
                self.check_length(&header)?;
                if sequence {
                    self.check_depth(&header, depth)?;
                    self.items(Some(self.pos + header.length as usize), inner, depth + 1)?;
                } else {
                    check_unit(&header)?;
                    self.pos += header.length as usize;
                }
            }
        }
    }

    /// A sequence's items, until `end` or (undefined length) its delimiter.
    fn items(&mut self, end: Option<usize>, encoding: Encoding, depth: usize) -> Walk {
        loop {
            if end.is_some_and(|e| self.pos >= e) {
                return Ok(());
            }
            let header = self.header(encoding)?;
            match header.tag {
                SEQUENCE_END if end.is_none() => return Ok(()),
                ITEM => {}
                _ => return Err(misplaced(&header, "where the sequence's next item or its end should be")),
            }
            if header.length == UNDEFINED {
                self.data_set(None, true, encoding, depth)?;
            } else {
                self.check_length(&header)?;
                let item_end = self.pos + header.length as usize;
                self.data_set(Some(item_end), false, encoding, depth)?;
                self.pos = self.pos.max(item_end);
            }
        }
    }

    /// Encapsulated pixel data: the offset table and fragments, until the sequence delimiter.
    fn fragments(&mut self) -> Walk {
        loop {
            // Fragment headers are always little endian in encapsulated transfer syntaxes.
            let header = self.header(Encoding::ExplicitLittle)?;
            match header.tag {
                SEQUENCE_END => return Ok(()),
                ITEM if header.length != UNDEFINED => {
                    self.check_length(&header)?;
                    self.pos += header.length as usize;
                }
                _ => return Err(misplaced(&header, "where the next pixel data fragment or the end should be")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An explicit VR little endian element.
    fn explicit(group: u16, element: u16, vr: &str, value: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&group.to_le_bytes());
        b.extend_from_slice(&element.to_le_bytes());
        b.extend_from_slice(vr.as_bytes());
        if ["OB", "OW", "SQ", "UN", "UT"].contains(&vr) {
            b.extend_from_slice(&[0, 0]);
            b.extend_from_slice(&(value.len() as u32).to_le_bytes());
        } else {
            b.extend_from_slice(&(value.len() as u16).to_le_bytes());
        }
        b.extend_from_slice(value);
        b
    }

    fn with_length(mut element: Vec<u8>, at: usize, length: u32) -> Vec<u8> {
        element[at..at + 4].copy_from_slice(&length.to_le_bytes());
        element
    }

    fn item(content: &[u8]) -> Vec<u8> {
        let mut b = vec![0xFE, 0xFF, 0x00, 0xE0];
        b.extend_from_slice(&(content.len() as u32).to_le_bytes());
        b.extend_from_slice(content);
        b
    }

    /// A Part 10 file: preamble, DICM, (0002,0000) = the length of `meta_extra` plus the
    /// transfer syntax element, those elements, then `data_set`.
    fn part10_with(transfer_syntax: &str, meta_extra: &[u8], data_set: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 128];
        b.extend_from_slice(b"DICM");
        let mut uid = transfer_syntax.as_bytes().to_vec();
        if uid.len() % 2 == 1 {
            uid.push(0);
        }
        let mut meta = explicit(0x0002, 0x0010, "UI", &uid);
        meta.extend_from_slice(meta_extra);
        b.extend(explicit(0x0002, 0x0000, "UL", &(meta.len() as u32).to_le_bytes()));
        b.extend(meta);
        b.extend_from_slice(data_set);
        b
    }

    fn part10(transfer_syntax: &str, data_set: &[u8]) -> Vec<u8> {
        part10_with(transfer_syntax, &[], data_set)
    }

    #[test]
    fn well_formed_data_sets_pass() {
        let mut ds = explicit(0x0008, 0x0060, "CS", b"CT");
        ds.extend(explicit(0x3006, 0x0020, "SQ", &item(&explicit(0x3006, 0x0022, "IS", b"1 "))));
        assert_eq!(check_bare(&ds, Encoding::ExplicitLittle), Ok(()));
        assert_eq!(check_part10(&part10("1.2.840.10008.1.2.1", &ds)), Ok(()));
    }

    #[test]
    fn a_length_past_the_end_of_the_file_is_refused_naming_the_tag() {
        let ds = with_length(explicit(0x7FE0, 0x0010, "OW", &[0; 16]), 8, 0xFFFF_FF00);
        let fault = check_bare(&ds, Encoding::ExplicitLittle).unwrap_err();
        assert_eq!(fault.tag, "(7FE0,0010) PixelData");
        assert!(fault.message.contains("4294967040 bytes at byte 0"), "{}", fault.message);
        assert!(fault.message.contains("only 16 bytes"), "{}", fault.message);
    }

    #[test]
    fn an_item_longer_than_the_file_inside_a_sequence_is_refused() {
        let inner = with_length(item(&explicit(0x3006, 0x0022, "IS", b"1 ")), 4, 1_000_000);
        let ds = explicit(0x3006, 0x0020, "SQ", &inner);
        let fault = check_bare(&ds, Encoding::ExplicitLittle).unwrap_err();
        assert_eq!(fault.tag, "(FFFE,E000) Item");
    }

    #[test]
    fn implicit_vr_sequences_are_walked_with_the_dictionary() {
        // (3006,0020) StructureSetROISequence, defined length, holding an element that lies.
        let mut element = vec![0x08, 0x30, 0x22, 0x00];
        element.extend_from_slice(&500_000u32.to_le_bytes());
        element.extend_from_slice(b"1 ");
        let it = item(&element);
        let mut ds = vec![0x06, 0x30, 0x20, 0x00];
        ds.extend_from_slice(&(it.len() as u32).to_le_bytes());
        ds.extend(it);
        let fault = check_bare(&ds, Encoding::ImplicitLittle).unwrap_err();
        assert!(fault.tag.starts_with("(3008,0022)"), "{}", fault.tag);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut content = explicit(0x3006, 0x0022, "IS", b"1 ");
        for _ in 0..(MAX_DEPTH + 5) {
            content = explicit(0x3006, 0x0020, "SQ", &item(&content));
        }
        let fault = check_bare(&content, Encoding::ExplicitLittle).unwrap_err();
        assert!(fault.message.contains("nested more than 64"), "{}", fault.message);
        let mut shallow = explicit(0x3006, 0x0022, "IS", b"1 ");
        for _ in 0..10 {
            shallow = explicit(0x3006, 0x0020, "SQ", &item(&shallow));
        }
        assert_eq!(check_bare(&shallow, Encoding::ExplicitLittle), Ok(()));
    }

    #[test]
    fn the_data_set_starts_where_the_meta_group_length_says() {
        // The fifth finding: the meta group length counts 12 more bytes than the meta elements
        // (here a zero header, read as a UN of length 0); dicom-rs reads them as meta and starts
        // the data set after them, where a group length lies about its size.
        let mut data_set = vec![0x08, 0x00, 0x00, 0x00];
        data_set.extend_from_slice(&0x4000_0000u32.to_le_bytes());
        let file = part10_with("1.2.840.10008.1.2", &[0; 12], &data_set);
        let fault = check_part10(&file).unwrap_err();
        assert!(fault.tag.starts_with("(0008,0000)"), "{fault:?}");
        // Without (0002,0000) first, dicom-rs refuses the file before reading on.
        let mut bare = vec![0u8; 128];
        bare.extend_from_slice(b"DICM");
        bare.extend(explicit(0x0002, 0x0010, "UI", b"1.2.840.10008.1.2\0"));
        assert_eq!(check_part10(&bare), Ok(()));
    }

    #[test]
    fn deflated_files_are_refused_before_inflating() {
        let fault = check_part10(&part10(DEFLATED, &[])).unwrap_err();
        assert_eq!(fault.tag, "(0002,0010) TransferSyntaxUID");
    }

    #[test]
    fn encapsulated_fragments_are_checked() {
        let mut pixel = vec![0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];
        pixel.extend(item(&[]));
        pixel.extend(item(&[1, 2, 3, 4]));
        pixel.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        assert_eq!(check_bare(&pixel, Encoding::ExplicitLittle), Ok(()));
        let lying = [&pixel[..12], &with_length(item(&[1, 2, 3, 4]), 4, 9_999_999)[..]].concat();
        assert_eq!(check_bare(&lying, Encoding::ExplicitLittle).unwrap_err().tag, "(FFFE,E000) Item");
    }

    #[test]
    fn an_unknown_vr_is_read_as_un_like_dicom_rs_does() {
        // The fuzzing finding's shape: VR bytes 04 80, then a 32-bit length of 2.3 GB.
        let mut ds = explicit(0x0008, 0x0060, "CS", b"CT");
        ds.extend_from_slice(&[0x04, 0x7A, 0x04, 0x7D, 0x04, 0x80, 0x04, 0x83, 0x04, 0x86, 0x04, 0x89, 0, 0]);
        let fault = check_bare(&ds, Encoding::ExplicitLittle).unwrap_err();
        assert_eq!(fault.tag, "(7A04,7D04)");
        assert!(fault.message.contains("2298775044 bytes at byte 10"), "{}", fault.message);
    }

    #[test]
    fn items_and_delimiters_out_of_place_are_refused() {
        let mut ds = explicit(0x0008, 0x0060, "CS", b"CT");
        ds.extend(item(&explicit(0x0020, 0x0052, "UI", b"1.2")));
        let fault = check_bare(&ds, Encoding::ExplicitLittle).unwrap_err();
        assert_eq!(fault.tag, "(FFFE,E000) Item");
        assert!(fault.message.contains("at byte 10 outside"), "{}", fault.message);
        // An item delimiter at the top level, and an element where a sequence's item should be.
        let mut top = explicit(0x0008, 0x0060, "CS", b"CT");
        top.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
        assert_eq!(check_bare(&top, Encoding::ExplicitLittle).unwrap_err().tag, "(FFFE,E00D) ItemDelimitationItem");
        let seq = explicit(0x3006, 0x0020, "SQ", &explicit(0x3006, 0x0022, "IS", b"1 "));
        assert!(check_bare(&seq, Encoding::ExplicitLittle).unwrap_err().tag.starts_with("(3006,0022)"));
        // Inside an undefined-length item the delimiter ends the item.
        let mut open_item = explicit(0x3006, 0x0020, "SQ", &[]);
        open_item[8..12].copy_from_slice(&UNDEFINED.to_le_bytes());
        open_item.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        open_item.extend(explicit(0x3006, 0x0022, "IS", b"1 "));
        open_item.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0, 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        open_item.extend(explicit(0x3006, 0x0024, "UI", b"1.2."));
        assert_eq!(check_bare(&open_item, Encoding::ExplicitLittle), Ok(()));
    }

    #[test]
    fn a_binary_value_of_a_broken_length_is_refused() {
        // The third fuzzing finding, 77 bytes of implicit VR: (0000,0000) UL of 42 bytes, then an
        // undefined length that dicom-rs, two bytes out of step, read as a 4 GB UL.
        let mut ds = vec![0x08, 0x00, 0x09, 0xFA, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x00, 42, 0, 0, 0];
        ds.extend_from_slice(&[0; 42]);
        ds.extend_from_slice(&[0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0]);
        let fault = check_bare(&ds, Encoding::ImplicitLittle).unwrap_err();
        assert_eq!(fault.tag, "(0000,0000) CommandGroupLength");
        assert!(
            fault.message.contains("42 bytes at byte 8 is not a whole number of 4-byte values (VR UL)"),
            "{}",
            fault.message
        );
        // Explicit VR: a US of 3 bytes; a group length of another group is a UL too.
        let us = explicit(0x0028, 0x0010, "US", &[1, 0, 0]);
        assert!(check_bare(&us, Encoding::ExplicitLittle).unwrap_err().message.contains("2-byte values (VR US)"));
        let mut group_length = vec![0x08, 0x00, 0x00, 0x00, 6, 0, 0, 0];
        group_length.extend_from_slice(&[0; 6]);
        assert!(check_bare(&group_length, Encoding::ImplicitLittle).unwrap_err().tag.starts_with("(0008,0000)"));
        // The fourth finding: in implicit VR a (FFFE,0000) is a group length, not an item.
        let mut ffe = vec![0x08, 0x00, 0x19, 0x00, 0, 0, 0, 0, 0xFE, 0xFF, 0x00, 0x00, 11, 0, 0, 0];
        ffe.extend_from_slice(&[0; 11]);
        assert!(check_bare(&ffe, Encoding::ImplicitLittle).unwrap_err().message.contains("4-byte values (VR UL)"));
        let fine = explicit(0x0028, 0x0010, "US", &[0, 2]);
        assert_eq!(check_bare(&fine, Encoding::ExplicitLittle), Ok(()));
    }

    #[test]
    fn unparseable_bytes_are_left_to_dicom_rs() {
        assert_eq!(check_bare(b"\x08\x00\x60\x00??\x02\x00CT", Encoding::ExplicitLittle), Ok(()));
    }
}
