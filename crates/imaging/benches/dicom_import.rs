//! DICOM import speed: a CT series of 512×512 slices and an RTSTRUCT with 20 ROIs, written once
//! into a temporary folder with dicom-rs (seeded contour shapes), then imported end to end.
//! Issue 6 target: 300 slices, 20 ROIs ≤ 5 s on the 2-core machine.

use criterion::{Criterion, criterion_group, criterion_main};
use cryoseed_imaging::dicom::{DicomImportOptions, import_dicom_dir};
use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use std::path::Path;

const FOR: &str = "1.2.826.0.1.3680043.10.1452.99.4";
const SERIES: &str = "1.2.826.0.1.3680043.10.1452.99.2";

fn el(tag: dicom_core::Tag, vr: VR, v: impl Into<PrimitiveValue>) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, vr, v.into())
}

fn save(obj: InMemDicomObject, class: &str, uid: &str, path: &Path) {
    let meta = FileMetaTableBuilder::new()
        .media_storage_sop_class_uid(class)
        .media_storage_sop_instance_uid(uid)
        .transfer_syntax("1.2.840.10008.1.2.1");
    obj.with_meta(meta).unwrap().write_to_file(path).unwrap();
}

fn common(class: &str, uid: &str, modality: &str) -> Vec<DataElement<InMemDicomObject>> {
    vec![
        el(tags::SOP_CLASS_UID, VR::UI, class),
        el(tags::SOP_INSTANCE_UID, VR::UI, uid),
        el(tags::PATIENT_ID, VR::LO, "BENCH-1"),
        el(tags::MODALITY, VR::CS, modality),
    ]
}

fn write_fixture(dir: &Path, slices: usize, n: usize, rois: usize) {
    let (pix, dz) = (0.8, 1.0);
    let x0 = -(n as f64) * pix / 2.0;
    for k in 0..slices {
        let uid = format!("{SERIES}.{}", k + 1);
        let pixels: Vec<u16> = (0..n * n).map(|p| ((p * 7 + k * 13) % 2000) as u16).collect();
        let mut e = common("1.2.840.10008.5.1.4.1.1.2", &uid, "CT");
        e.extend([
            el(tags::SERIES_INSTANCE_UID, VR::UI, SERIES),
            el(tags::FRAME_OF_REFERENCE_UID, VR::UI, FOR),
            el(tags::IMAGE_POSITION_PATIENT, VR::DS, format!("{x0}\\{x0}\\{}", k as f64 * dz)),
            el(tags::IMAGE_ORIENTATION_PATIENT, VR::DS, "1\\0\\0\\0\\1\\0"),
            el(tags::PIXEL_SPACING, VR::DS, format!("{pix}\\{pix}")),
            el(tags::ROWS, VR::US, n as u16),
            el(tags::COLUMNS, VR::US, n as u16),
            el(tags::SAMPLES_PER_PIXEL, VR::US, 1u16),
            el(tags::BITS_ALLOCATED, VR::US, 16u16),
            el(tags::BITS_STORED, VR::US, 12u16),
            el(tags::PIXEL_REPRESENTATION, VR::US, 0u16),
            el(tags::RESCALE_SLOPE, VR::DS, "1"),
            el(tags::RESCALE_INTERCEPT, VR::DS, "-1024"),
            DataElement::new(tags::PIXEL_DATA, VR::OW, PrimitiveValue::U16(pixels.into())),
        ]);
        save(
            InMemDicomObject::from_element_iter(e),
            "1.2.840.10008.5.1.4.1.1.2",
            &uid,
            &dir.join(format!("ct{k:04}.dcm")),
        );
    }
    // 20 ROIs: ellipses with 64 vertices on every slice, spread over the field of view.
    let mut ssroi = Vec::new();
    let mut roic = Vec::new();
    for r in 0..rois {
        let name = if r == 0 { "GTV_L1".to_owned() } else { format!("A_Vessel{r}") };
        ssroi.push(InMemDicomObject::from_element_iter([
            el(tags::ROI_NUMBER, VR::IS, format!("{}", r + 1)),
            el(tags::REFERENCED_FRAME_OF_REFERENCE_UID, VR::UI, FOR),
            el(tags::ROI_NAME, VR::LO, name),
        ]));
        let (cx, cy) = (((r % 5) as f64 - 2.0) * 60.0, ((r / 5) as f64 - 1.5) * 60.0);
        let contours: Vec<InMemDicomObject> = (0..slices)
            .map(|k| {
                let pts: Vec<String> = (0..64)
                    .flat_map(|t| {
                        let a = t as f64 / 64.0 * std::f64::consts::TAU;
                        [cx + 25.0 * a.cos(), cy + 18.0 * a.sin(), k as f64 * dz].map(|v| format!("{v:.3}"))
                    })
                    .collect();
                InMemDicomObject::from_element_iter([
                    el(tags::CONTOUR_GEOMETRIC_TYPE, VR::CS, "CLOSED_PLANAR"),
                    el(tags::NUMBER_OF_CONTOUR_POINTS, VR::IS, "64"),
                    el(tags::CONTOUR_DATA, VR::DS, pts.join("\\")),
                ])
            })
            .collect();
        roic.push(InMemDicomObject::from_element_iter([
            el(tags::REFERENCED_ROI_NUMBER, VR::IS, format!("{}", r + 1)),
            DataElement::new(tags::CONTOUR_SEQUENCE, VR::SQ, DataSetSequence::from(contours)),
        ]));
    }
    let uid = "1.2.826.0.1.3680043.10.1452.99.9";
    let mut e = common("1.2.840.10008.5.1.4.1.1.481.3", uid, "RTSTRUCT");
    e.extend([
        DataElement::new(tags::STRUCTURE_SET_ROI_SEQUENCE, VR::SQ, DataSetSequence::from(ssroi)),
        DataElement::new(tags::ROI_CONTOUR_SEQUENCE, VR::SQ, DataSetSequence::from(roic)),
    ]);
    save(InMemDicomObject::from_element_iter(e), "1.2.840.10008.5.1.4.1.1.481.3", uid, &dir.join("rtstruct.dcm"));
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("dicom_import");
    group.sample_size(10);
    for (slices, n) in [(60usize, 512usize), (300, 512)] {
        let dir = tempfile::tempdir().unwrap();
        write_fixture(dir.path(), slices, n, 20);
        let options = DicomImportOptions::default();
        group.bench_function(format!("ct_{n}x{n}x{slices}_20_rois"), |b| {
            b.iter(|| {
                let imported = import_dicom_dir(dir.path(), &options).unwrap();
                assert_eq!(imported.case.structures().len(), 20);
                imported
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
