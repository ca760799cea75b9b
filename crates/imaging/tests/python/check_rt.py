"""Independent checks of cryoseed's DICOM RT files with pydicom and dicompyler-core (test tool
only; run by crates/imaging/tests/it/dicom_python.rs, never at runtime).

    python3 check_rt.py export DIR ROI=DOSE_GY [ROI=DOSE_GY...]
        Reads every .dcm under DIR with pydicom (no force), decodes the RT Dose pixels, checks the
        references between the objects, and prints JSON with dicompyler-core's D90 (Gy) and the
        percentage of volume receiving at least DOSE_GY (V100 when DOSE_GY is the prescription)
        for each named ROI.

    python3 check_rt.py samples
        Prints JSON describing pydicom's bundled RT sample files (paths and reference values).
"""

import json
import pathlib
import sys

import numpy as np
import pydicom
import pydicom.dicomio
from pydicom.data import get_testdata_file

# dicompyler-core 0.5.6 (its latest release) still imports pydicom.dicomio.read_file, which
# pydicom 3 removed; dcmread is its replacement with the same signature.
if not hasattr(pydicom.dicomio, "read_file"):
    pydicom.dicomio.read_file = pydicom.dcmread


def export(directory, requests):
    files = sorted(pathlib.Path(directory).rglob("*.dcm"))
    by_modality = {}
    for f in files:
        ds = pydicom.dcmread(f)  # raises on a file that is not valid Part 10
        by_modality.setdefault(ds.Modality, []).append(ds)
        ds.file_meta.TransferSyntaxUID  # meta present
    rs = by_modality["RTSTRUCT"][0]
    rd = by_modality["RTDOSE"][0]
    rp = by_modality["RTPLAN"][0]
    dose = rd.pixel_array.astype(np.float64) * float(rd.DoseGridScaling)
    for_uid = rs.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID
    checks = {
        "files": len(files),
        "dose_shape": list(dose.shape),
        "dose_max_gy": float(dose.max()),
        "same_study": len({d.StudyInstanceUID for ds_list in by_modality.values() for d in ds_list}) == 1,
        "same_frame_of_reference": rd.FrameOfReferenceUID == for_uid == rp.FrameOfReferenceUID,
        "dose_references_plan": rd.ReferencedRTPlanSequence[0].ReferencedSOPInstanceUID == rp.SOPInstanceUID,
        "plan_references_structures": rp.ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID
        == rs.SOPInstanceUID,
        "technique": rp.BrachyTreatmentTechnique,
        "channels": len(rp.ApplicationSetupSequence[0].ChannelSequence),
        "isotope": rp.SourceSequence[0].SourceIsotopeName,
        "reference_air_kerma_rate": float(rp.SourceSequence[0].ReferenceAirKermaRate),
        "roi_types": {
            r.ROIName: o.RTROIInterpretedType
            for r, o in zip(rs.StructureSetROISequence, rs.RTROIObservationsSequence)
        },
    }
    from dicompylercore import dvhcalc

    numbers = {r.ROIName: int(r.ROINumber) for r in rs.StructureSetROISequence}
    dvhs = {}
    for request in requests:
        name, level = request.rsplit("=", 1)
        dvh = dvhcalc.get_dvh(rs, rd, numbers[name])
        dvhs[name] = {
            "d90_gy": float(dvh.dose_constraint(90).value),
            "v_percent": float(dvh.relative_volume.volume_constraint(float(level), "Gy").value),
            "volume_cc": float(dvh.volume),
        }
    print(json.dumps({"checks": checks, "dvh": dvhs}))


def samples():
    out = {"rtdose": [], "rtstruct": []}
    for name in ["rtdose.dcm", "rtdose_expb.dcm", "rtdose_1frame.dcm", "rtdose_rle.dcm"]:
        path = get_testdata_file(name)
        ds = pydicom.dcmread(path)
        entry = {"path": path, "transfer_syntax": str(ds.file_meta.TransferSyntaxUID)}
        try:
            arr = ds.pixel_array.astype(np.float64) * float(ds.DoseGridScaling)
            entry.update(sum=float(arr.sum()), max=float(arr.max()), frames=int(ds.get("NumberOfFrames", 1)))
        except Exception as e:  # a decoder pydicom lacks: report, the Rust side decides
            entry["pydicom_error"] = str(e)
        out["rtdose"].append(entry)
    path = get_testdata_file("rtstruct.dcm")
    ds = pydicom.dcmread(path, force=True)  # this sample has no preamble and no file meta
    for roi, rc in zip(ds.StructureSetROISequence, ds.ROIContourSequence):
        area = 0.0
        planes = []
        for c in rc.get("ContourSequence", []):
            if c.ContourGeometricType != "CLOSED_PLANAR":
                continue
            p = np.array(c.ContourData, dtype=float).reshape(-1, 3)
            x, y = p[:, 0], p[:, 1]
            area += 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
            planes.append(float(p[0, 2]))
        out["rtstruct"].append(
            {"path": path, "name": roi.ROIName, "number": int(roi.ROINumber), "area_mm2": area, "planes": planes}
        )
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "export":
        export(sys.argv[2], sys.argv[3:])
    else:
        samples()
