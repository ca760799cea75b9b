//! A zip archive writer for the statistician's downloads: deflated entries (flate2, already a
//! workspace dependency, with its CRC-32), no ZIP64, every entry dated 1980-01-01 00:00 (the
//! format's first day) so that the archive is a function of its files only.

use flate2::Compression;
use flate2::write::DeflateEncoder;
use std::io::Write as _;

/// DOS date of 1980-01-01 (day 1, month 1, year 0 from 1980).
const DOS_DATE: u16 = (1 << 5) | 1;

fn u16le(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn u32le(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Why an archive cannot be written.
#[derive(Debug)]
pub struct ZipError(pub String);

impl std::fmt::Display for ZipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn size(n: usize, what: &str) -> Result<u32, ZipError> {
    u32::try_from(n).map_err(|_| ZipError(format!("{what} is larger than 4 GiB (ZIP64 is not written)")))
}

/// The zip archive of `files` (name, bytes), in their order.
pub fn zip(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, ZipError> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, bytes) in files {
        let mut crc = flate2::Crc::new();
        crc.update(bytes);
        let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).and_then(|()| encoder.flush()).map_err(|e| ZipError(e.to_string()))?;
        let deflated = encoder.finish().map_err(|e| ZipError(e.to_string()))?;
        let offset = size(out.len(), "the archive")?;
        let (name_len, csize, usize_) = (
            u16::try_from(name.len()).map_err(|_| ZipError(format!("{name}: name too long")))?,
            size(deflated.len(), name)?,
            size(bytes.len(), name)?,
        );
        // Local file header.
        u32le(&mut out, 0x0403_4b50);
        for v in [20, 0, 8, 0, DOS_DATE] {
            u16le(&mut out, v);
        }
        for v in [crc.sum(), csize, usize_] {
            u32le(&mut out, v);
        }
        u16le(&mut out, name_len);
        u16le(&mut out, 0);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&deflated);
        // Central directory header.
        u32le(&mut central, 0x0201_4b50);
        for v in [20, 20, 0, 8, 0, DOS_DATE] {
            u16le(&mut central, v);
        }
        for v in [crc.sum(), csize, usize_] {
            u32le(&mut central, v);
        }
        for v in [name_len, 0, 0, 0, 0] {
            u16le(&mut central, v);
        }
        u32le(&mut central, 0);
        u32le(&mut central, offset);
        central.extend_from_slice(name.as_bytes());
    }
    let count = u16::try_from(files.len()).map_err(|_| ZipError("more than 65 535 files".into()))?;
    let central_offset = size(out.len(), "the archive")?;
    let central_size = size(central.len(), "the central directory")?;
    out.extend_from_slice(&central);
    u32le(&mut out, 0x0605_4b50);
    for v in [0, 0, count, count] {
        u16le(&mut out, v);
    }
    u32le(&mut out, central_size);
    u32le(&mut out, central_offset);
    u16le(&mut out, 0);
    Ok(out)
}

/// The files of an archive [`zip`] wrote (deflated or stored entries, no ZIP64), each checked
/// against its CRC-32; for tests and for anyone who wants to read a download back.
pub fn unzip(archive: &[u8]) -> Result<Vec<(String, Vec<u8>)>, ZipError> {
    use std::io::Read as _;
    let bad = |what: &str| ZipError(format!("not a zip archive: {what}"));
    let u16at = |i: usize| archive.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32at = |i: usize| archive.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let mut files = Vec::new();
    let mut i = 0;
    while u32at(i) == Some(0x0403_4b50) {
        let method = u16at(i + 8).ok_or_else(|| bad("header"))?;
        let crc = u32at(i + 14).ok_or_else(|| bad("header"))?;
        let csize = u32at(i + 18).ok_or_else(|| bad("header"))? as usize;
        let name_len = usize::from(u16at(i + 26).ok_or_else(|| bad("header"))?);
        let extra = usize::from(u16at(i + 28).ok_or_else(|| bad("header"))?);
        let name = archive.get(i + 30..i + 30 + name_len).ok_or_else(|| bad("name"))?;
        let start = i + 30 + name_len + extra;
        let data = archive.get(start..start + csize).ok_or_else(|| bad("entry"))?;
        let bytes = match method {
            0 => data.to_vec(),
            8 => {
                let mut v = Vec::new();
                flate2::read::DeflateDecoder::new(data).read_to_end(&mut v).map_err(|e| ZipError(e.to_string()))?;
                v
            }
            m => return Err(ZipError(format!("compression method {m}"))),
        };
        let mut check = flate2::Crc::new();
        check.update(&bytes);
        let name = String::from_utf8_lossy(name).into_owned();
        if check.sum() != crc {
            return Err(ZipError(format!("{name}: CRC-32 mismatch")));
        }
        files.push((name, bytes));
        i = start + csize;
    }
    if u32at(i) != Some(0x0201_4b50) && !files.is_empty() {
        return Err(bad("central directory"));
    }
    Ok(files)
}
