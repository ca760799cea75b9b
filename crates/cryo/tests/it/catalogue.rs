//! The shipped catalogue and site catalogues in the same layout.

use cryoseed_core::{Celsius, Mm};
use cryoseed_cryo::{CryoError, ProbeCatalogue};

#[test]
fn shipped_catalogue_carries_the_hinshaw_isotherms() {
    let catalogue = ProbeCatalogue::shipped();
    let names: Vec<&str> = catalogue.classes().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["2.4mm-argon", "17g-sphere", "17g-rod"]);
    let argon = catalogue.class("2.4mm-argon").unwrap();
    assert_eq!(argon.outer_diameter, Mm(2.4));
    assert_eq!(argon.surface_temperature_or(Celsius(-100.0)), Celsius(-150.0));
    // probes.csv rows 1-3 (Hinshaw JVIR 2010): 31 / 23 / 18 mm after a 10-min double freeze.
    for (t, width) in [(0.0, 31.0), (-20.0, 23.0), (-40.0, 18.0)] {
        let iso = argon.reference_isotherm(Celsius(t)).unwrap();
        assert_eq!(iso.width, Some(Mm(width)), "{t} °C");
        assert_eq!(iso.length, None, "no length along the probe was measured");
    }
    assert!(argon.calibrated_to.contains("rows 1-3"));
    let rod = catalogue.class("17g-rod").unwrap();
    assert!(rod.isotherms.iter().all(|i| i.length.is_none() && i.width.is_none()));
    // The copied measurements are present verbatim (29 data rows + header).
    assert_eq!(cryoseed_cryo::catalogue::MEASURED_ISOTHERMS_CSV.lines().count(), 30);
}

#[test]
fn unknown_class_lists_the_known_ones() {
    let err = ProbeCatalogue::shipped().class("ice-cube").unwrap_err().to_string();
    assert_eq!(err, "unknown probe class `ice-cube` (known: 2.4mm-argon, 17g-sphere, 17g-rod)");
}

const HEADER: &str = "class,description,outer_diameter_mm,active_length_mm,surface_temperature_c,reference_freeze,\
reference_medium,iso_0c_length_mm,iso_0c_width_mm,iso_minus20c_length_mm,iso_minus20c_width_mm,\
iso_minus40c_length_mm,iso_minus40c_width_mm,calibrated_to,assumptions";

#[test]
fn site_catalogue_in_the_same_layout() {
    let text = format!(
        "{HEADER},site_note\nvendor-x,\"Vendor X 17G, rod\",1.5,38,-135,2 x 10 min,gel 37 C,45,30,38,21,33,15,IFU rev 3,none,extra\n"
    );
    let catalogue = ProbeCatalogue::from_csv_str(&text).unwrap();
    let class = catalogue.class("vendor-x").unwrap();
    assert_eq!(class.description, "Vendor X 17G, rod");
    assert_eq!(class.active_length, Mm(38.0));
    assert_eq!(class.surface_temperature, Some(Celsius(-135.0)));
    assert_eq!(class.reference_isotherm(Celsius(-40.0)).unwrap().width, Some(Mm(15.0)));
}

#[test]
fn bad_site_catalogues_name_line_and_column() {
    let check = |rows: &str, want: &str| {
        let err = ProbeCatalogue::from_csv_str(&format!("{HEADER}\n{rows}")).unwrap_err();
        assert_eq!(err.to_string(), want, "{rows}");
    };
    let good = "a,,2.4,40,,,,,,,,,,,";
    check("a,,two,40,,,,,,,,,,,", "probe catalogue line 2, column `outer_diameter_mm`: not a number: `two`");
    check("a,,2.4,0,,,,,,,,,,,", "probe catalogue line 2, column `active_length_mm`: must be > 0, got 0");
    check("a,,2.4,,,,,,,,,,,,", "probe catalogue line 2, column `active_length_mm`: required");
    check(
        "a,,2.4,40,-10,,,,,,,,,,",
        "probe catalogue line 2, column `surface_temperature_c`: must be below -40 (the coldest tabulated isotherm), got -10",
    );
    check(&format!("{good}\n{good}"), "probe catalogue line 3, column `class`: duplicate class `a`");
    check("a,,2.4,40,,,,,-3,,,,,,", "probe catalogue line 2, column `iso_0c_width_mm`: must be > 0 when given, got -3");
    check(",,2.4,40,,,,,,,,,,,", "probe catalogue line 2, column `class`: required");
    let missing = ProbeCatalogue::from_csv_str("class,description\n").unwrap_err();
    assert!(matches!(missing, CryoError::CatalogueColumn { column: "outer_diameter_mm" }), "{missing}");
    let empty = ProbeCatalogue::from_csv_str(HEADER).unwrap_err().to_string();
    assert!(empty.contains("no probe class"), "{empty}");
    let ragged = ProbeCatalogue::from_csv_str(&format!("{HEADER}\na,b\n")).unwrap_err().to_string();
    assert!(ragged.starts_with("probe catalogue:"), "{ragged}");
}
