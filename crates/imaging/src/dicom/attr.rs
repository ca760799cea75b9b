//! Typed access to DICOM attributes with errors that name the file and the tag.

use crate::ImagingError;
use dicom_core::Tag;
use dicom_core::header::HasLength;
use dicom_object::InMemDicomObject;
use std::path::Path;

/// A tag and its keyword, for messages: `(0020,0037) ImageOrientationPatient`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Attr(pub Tag, pub &'static str);

impl std::fmt::Display for Attr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "({:04X},{:04X}) {}", self.0.group(), self.0.element(), self.1)
    }
}

macro_rules! attrs {
    ($($name:ident = $tag:ident, $keyword:literal;)*) => {
        $(pub(crate) const $name: Attr = Attr(dicom_dictionary_std::tags::$tag, $keyword);)*
    };
}

attrs! {
    SOP_CLASS_UID = SOP_CLASS_UID, "SOPClassUID";
    MODALITY = MODALITY, "Modality";
    PATIENT_ID = PATIENT_ID, "PatientID";
    SERIES_INSTANCE_UID = SERIES_INSTANCE_UID, "SeriesInstanceUID";
    FRAME_OF_REFERENCE_UID = FRAME_OF_REFERENCE_UID, "FrameOfReferenceUID";
    IMAGE_POSITION_PATIENT = IMAGE_POSITION_PATIENT, "ImagePositionPatient";
    IMAGE_ORIENTATION_PATIENT = IMAGE_ORIENTATION_PATIENT, "ImageOrientationPatient";
    PIXEL_SPACING = PIXEL_SPACING, "PixelSpacing";
    ROWS = ROWS, "Rows";
    COLUMNS = COLUMNS, "Columns";
    SAMPLES_PER_PIXEL = SAMPLES_PER_PIXEL, "SamplesPerPixel";
    BITS_ALLOCATED = BITS_ALLOCATED, "BitsAllocated";
    BITS_STORED = BITS_STORED, "BitsStored";
    PIXEL_REPRESENTATION = PIXEL_REPRESENTATION, "PixelRepresentation";
    RESCALE_SLOPE = RESCALE_SLOPE, "RescaleSlope";
    RESCALE_INTERCEPT = RESCALE_INTERCEPT, "RescaleIntercept";
    PIXEL_DATA = PIXEL_DATA, "PixelData";
    NUMBER_OF_FRAMES = NUMBER_OF_FRAMES, "NumberOfFrames";
    TRANSFER_SYNTAX_UID = TRANSFER_SYNTAX_UID, "TransferSyntaxUID";
    REFERENCED_FRAME_OF_REFERENCE_SEQUENCE = REFERENCED_FRAME_OF_REFERENCE_SEQUENCE, "ReferencedFrameOfReferenceSequence";
    RT_REFERENCED_STUDY_SEQUENCE = RT_REFERENCED_STUDY_SEQUENCE, "RTReferencedStudySequence";
    RT_REFERENCED_SERIES_SEQUENCE = RT_REFERENCED_SERIES_SEQUENCE, "RTReferencedSeriesSequence";
    STRUCTURE_SET_ROI_SEQUENCE = STRUCTURE_SET_ROI_SEQUENCE, "StructureSetROISequence";
    ROI_NUMBER = ROI_NUMBER, "ROINumber";
    ROI_NAME = ROI_NAME, "ROIName";
    REFERENCED_FRAME_OF_REFERENCE_UID = REFERENCED_FRAME_OF_REFERENCE_UID, "ReferencedFrameOfReferenceUID";
    ROI_CONTOUR_SEQUENCE = ROI_CONTOUR_SEQUENCE, "ROIContourSequence";
    REFERENCED_ROI_NUMBER = REFERENCED_ROI_NUMBER, "ReferencedROINumber";
    CONTOUR_SEQUENCE = CONTOUR_SEQUENCE, "ContourSequence";
    CONTOUR_GEOMETRIC_TYPE = CONTOUR_GEOMETRIC_TYPE, "ContourGeometricType";
    CONTOUR_DATA = CONTOUR_DATA, "ContourData";
    SOP_INSTANCE_UID = SOP_INSTANCE_UID, "SOPInstanceUID";
    DOSE_UNITS = DOSE_UNITS, "DoseUnits";
    DOSE_TYPE = DOSE_TYPE, "DoseType";
    DOSE_SUMMATION_TYPE = DOSE_SUMMATION_TYPE, "DoseSummationType";
    DOSE_GRID_SCALING = DOSE_GRID_SCALING, "DoseGridScaling";
    GRID_FRAME_OFFSET_VECTOR = GRID_FRAME_OFFSET_VECTOR, "GridFrameOffsetVector";
    REFERENCED_RT_PLAN_SEQUENCE = REFERENCED_RT_PLAN_SEQUENCE, "ReferencedRTPlanSequence";
    REFERENCED_SOP_INSTANCE_UID = REFERENCED_SOP_INSTANCE_UID, "ReferencedSOPInstanceUID";
    RTROI_OBSERVATIONS_SEQUENCE = RTROI_OBSERVATIONS_SEQUENCE, "RTROIObservationsSequence";
    RTROI_INTERPRETED_TYPE = RTROI_INTERPRETED_TYPE, "RTROIInterpretedType";
}

/// Error about one attribute of one file.
pub(crate) fn tag_error(path: &Path, attr: Attr, message: impl Into<String>) -> ImagingError {
    ImagingError::DicomTag { path: path.to_owned(), tag: attr.to_string(), message: message.into() }
}

/// The attribute's element if present and not empty.
fn present(obj: &InMemDicomObject, attr: Attr) -> Option<&dicom_object::mem::InMemElement> {
    obj.element_opt(attr.0).ok().flatten().filter(|e| !e.value().is_empty())
}

/// A string attribute, trimmed; `None` when absent or empty.
pub(crate) fn opt_str(obj: &InMemDicomObject, attr: Attr, path: &Path) -> Result<Option<String>, ImagingError> {
    match present(obj, attr) {
        None => Ok(None),
        Some(e) => {
            let s = e.to_str().map_err(|err| tag_error(path, attr, format!("not text: {err}")))?;
            let s = s.trim_matches(|c: char| c.is_whitespace() || c == '\0').to_owned();
            Ok(if s.is_empty() { None } else { Some(s) })
        }
    }
}

/// A required string attribute.
pub(crate) fn req_str(obj: &InMemDicomObject, attr: Attr, path: &Path) -> Result<String, ImagingError> {
    opt_str(obj, attr, path)?.ok_or_else(|| tag_error(path, attr, "missing or empty"))
}

/// A numeric (DS/IS/FD/US…) multi-valued attribute; `None` when absent or empty.
pub(crate) fn opt_f64s(obj: &InMemDicomObject, attr: Attr, path: &Path) -> Result<Option<Vec<f64>>, ImagingError> {
    match present(obj, attr) {
        None => Ok(None),
        Some(e) => {
            let v = e.to_multi_float64().map_err(|err| tag_error(path, attr, format!("not a number: {err}")))?;
            if let Some(bad) = v.iter().find(|x| !x.is_finite()) {
                return Err(tag_error(path, attr, format!("value {bad} is not finite")));
            }
            Ok(Some(v))
        }
    }
}

/// A required numeric attribute with exactly `n` values.
pub(crate) fn req_f64s(obj: &InMemDicomObject, attr: Attr, path: &Path, n: usize) -> Result<Vec<f64>, ImagingError> {
    let v = opt_f64s(obj, attr, path)?.ok_or_else(|| tag_error(path, attr, "missing or empty"))?;
    if v.len() != n {
        return Err(tag_error(path, attr, format!("expected {n} values, got {}", v.len())));
    }
    Ok(v)
}

/// An optional single number.
pub(crate) fn opt_f64(obj: &InMemDicomObject, attr: Attr, path: &Path) -> Result<Option<f64>, ImagingError> {
    match opt_f64s(obj, attr, path)? {
        None => Ok(None),
        Some(v) if v.len() == 1 => Ok(Some(v[0])),
        Some(v) => Err(tag_error(path, attr, format!("expected 1 value, got {}", v.len()))),
    }
}

/// A required unsigned integer.
pub(crate) fn req_u32(obj: &InMemDicomObject, attr: Attr, path: &Path) -> Result<u32, ImagingError> {
    let e = present(obj, attr).ok_or_else(|| tag_error(path, attr, "missing or empty"))?;
    e.to_int::<u32>().map_err(|err| tag_error(path, attr, format!("not an unsigned integer: {err}")))
}

/// The items of a sequence attribute (empty when absent).
pub(crate) fn items<'a>(
    obj: &'a InMemDicomObject,
    attr: Attr,
    path: &Path,
) -> Result<&'a [InMemDicomObject], ImagingError> {
    match obj.element_opt(attr.0).ok().flatten() {
        None => Ok(&[]),
        Some(e) => e.items().ok_or_else(|| tag_error(path, attr, "is not a sequence")),
    }
}
