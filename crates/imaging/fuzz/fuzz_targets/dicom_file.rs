//! Any bytes as a DICOM file through every reader: the RT Dose reader, the structure-set reader
//! and rasterizer, and the folder importer. They must return an error (naming the file and, where
//! one is at fault, the tag), never panic.
#![no_main]

use cryoseed_core::{Mm, PatientPoint};
use cryoseed_imaging::dicom::{DicomImportOptions, import_dicom_dir, read_rtdose, read_structure_set};
use cryoseed_volume::Grid;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

struct Place {
    dir: std::path::PathBuf,
    file: std::path::PathBuf,
}

fn place() -> &'static Place {
    static PLACE: OnceLock<Place> = OnceLock::new();
    PLACE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("cryoseed-fuzz-dicom-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Place { file: dir.join("input.dcm"), dir }
    })
}

fuzz_target!(|data: &[u8]| {
    let p = place();
    std::fs::write(&p.file, data).unwrap();
    let _ = read_rtdose(&p.file);
    let grid = Grid::new([64, 64, 16], [Mm(2.0), Mm(2.0), Mm(3.0)], PatientPoint([-64.0, -64.0, -24.0])).unwrap();
    let _ = read_structure_set(&p.file, &grid);
    let _ = import_dicom_dir(&p.dir, &DicomImportOptions::default());
});
