//! Transaction mortality, encoded exactly as Substrate's `Era`.

use codec::{Decode, DecodeWithMemTracking, Encode, Error, Input, Output};
use scale_info::TypeInfo;

/// Immortal, or valid for `period` blocks from a birth block derived from `phase`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Era {
    /// Valid forever (replay protection by nonce only).
    Immortal,
    /// `(period, phase)`: period a power of two in 4..=65536, phase < period.
    Mortal(u64, u64),
}

impl Era {
    /// A mortal era of about `period` blocks starting at block `current`.
    pub fn mortal(period: u64, current: u64) -> Self {
        let period = period
            .checked_next_power_of_two()
            .unwrap_or(1 << 16)
            .clamp(4, 1 << 16);
        let phase = current % period;
        let quantize = (period >> 12).max(1);
        Era::Mortal(period, phase / quantize * quantize)
    }

    /// The first block at which a transaction of this era is valid, given a
    /// block `current` inside its window.
    pub fn birth(self, current: u64) -> u64 {
        match self {
            Era::Immortal => 0,
            Era::Mortal(period, phase) => {
                (current.max(phase).saturating_sub(phase)) / period * period + phase
            }
        }
    }

    /// The first block at which it is no longer valid.
    pub fn death(self, current: u64) -> u64 {
        match self {
            Era::Immortal => u64::MAX,
            Era::Mortal(period, _) => self.birth(current).saturating_add(period),
        }
    }
}

impl Encode for Era {
    fn encode_to<T: Output + ?Sized>(&self, out: &mut T) {
        match *self {
            Era::Immortal => out.push_byte(0),
            Era::Mortal(period, phase) => {
                let quantize = (period >> 12).max(1);
                let low = (period.trailing_zeros().saturating_sub(1)).clamp(1, 15) as u16;
                // A valid era's phase is below its period, so this fits in 12 bits.
                let quantized = u16::try_from(phase / quantize).unwrap_or(u16::MAX);
                let encoded = low | (quantized << 4);
                encoded.encode_to(out);
            }
        }
    }
}

impl DecodeWithMemTracking for Era {}

const MORTAL_NAMES: [&str; 255] = [
    "Mortal1",
    "Mortal2",
    "Mortal3",
    "Mortal4",
    "Mortal5",
    "Mortal6",
    "Mortal7",
    "Mortal8",
    "Mortal9",
    "Mortal10",
    "Mortal11",
    "Mortal12",
    "Mortal13",
    "Mortal14",
    "Mortal15",
    "Mortal16",
    "Mortal17",
    "Mortal18",
    "Mortal19",
    "Mortal20",
    "Mortal21",
    "Mortal22",
    "Mortal23",
    "Mortal24",
    "Mortal25",
    "Mortal26",
    "Mortal27",
    "Mortal28",
    "Mortal29",
    "Mortal30",
    "Mortal31",
    "Mortal32",
    "Mortal33",
    "Mortal34",
    "Mortal35",
    "Mortal36",
    "Mortal37",
    "Mortal38",
    "Mortal39",
    "Mortal40",
    "Mortal41",
    "Mortal42",
    "Mortal43",
    "Mortal44",
    "Mortal45",
    "Mortal46",
    "Mortal47",
    "Mortal48",
    "Mortal49",
    "Mortal50",
    "Mortal51",
    "Mortal52",
    "Mortal53",
    "Mortal54",
    "Mortal55",
    "Mortal56",
    "Mortal57",
    "Mortal58",
    "Mortal59",
    "Mortal60",
    "Mortal61",
    "Mortal62",
    "Mortal63",
    "Mortal64",
    "Mortal65",
    "Mortal66",
    "Mortal67",
    "Mortal68",
    "Mortal69",
    "Mortal70",
    "Mortal71",
    "Mortal72",
    "Mortal73",
    "Mortal74",
    "Mortal75",
    "Mortal76",
    "Mortal77",
    "Mortal78",
    "Mortal79",
    "Mortal80",
    "Mortal81",
    "Mortal82",
    "Mortal83",
    "Mortal84",
    "Mortal85",
    "Mortal86",
    "Mortal87",
    "Mortal88",
    "Mortal89",
    "Mortal90",
    "Mortal91",
    "Mortal92",
    "Mortal93",
    "Mortal94",
    "Mortal95",
    "Mortal96",
    "Mortal97",
    "Mortal98",
    "Mortal99",
    "Mortal100",
    "Mortal101",
    "Mortal102",
    "Mortal103",
    "Mortal104",
    "Mortal105",
    "Mortal106",
    "Mortal107",
    "Mortal108",
    "Mortal109",
    "Mortal110",
    "Mortal111",
    "Mortal112",
    "Mortal113",
    "Mortal114",
    "Mortal115",
    "Mortal116",
    "Mortal117",
    "Mortal118",
    "Mortal119",
    "Mortal120",
    "Mortal121",
    "Mortal122",
    "Mortal123",
    "Mortal124",
    "Mortal125",
    "Mortal126",
    "Mortal127",
    "Mortal128",
    "Mortal129",
    "Mortal130",
    "Mortal131",
    "Mortal132",
    "Mortal133",
    "Mortal134",
    "Mortal135",
    "Mortal136",
    "Mortal137",
    "Mortal138",
    "Mortal139",
    "Mortal140",
    "Mortal141",
    "Mortal142",
    "Mortal143",
    "Mortal144",
    "Mortal145",
    "Mortal146",
    "Mortal147",
    "Mortal148",
    "Mortal149",
    "Mortal150",
    "Mortal151",
    "Mortal152",
    "Mortal153",
    "Mortal154",
    "Mortal155",
    "Mortal156",
    "Mortal157",
    "Mortal158",
    "Mortal159",
    "Mortal160",
    "Mortal161",
    "Mortal162",
    "Mortal163",
    "Mortal164",
    "Mortal165",
    "Mortal166",
    "Mortal167",
    "Mortal168",
    "Mortal169",
    "Mortal170",
    "Mortal171",
    "Mortal172",
    "Mortal173",
    "Mortal174",
    "Mortal175",
    "Mortal176",
    "Mortal177",
    "Mortal178",
    "Mortal179",
    "Mortal180",
    "Mortal181",
    "Mortal182",
    "Mortal183",
    "Mortal184",
    "Mortal185",
    "Mortal186",
    "Mortal187",
    "Mortal188",
    "Mortal189",
    "Mortal190",
    "Mortal191",
    "Mortal192",
    "Mortal193",
    "Mortal194",
    "Mortal195",
    "Mortal196",
    "Mortal197",
    "Mortal198",
    "Mortal199",
    "Mortal200",
    "Mortal201",
    "Mortal202",
    "Mortal203",
    "Mortal204",
    "Mortal205",
    "Mortal206",
    "Mortal207",
    "Mortal208",
    "Mortal209",
    "Mortal210",
    "Mortal211",
    "Mortal212",
    "Mortal213",
    "Mortal214",
    "Mortal215",
    "Mortal216",
    "Mortal217",
    "Mortal218",
    "Mortal219",
    "Mortal220",
    "Mortal221",
    "Mortal222",
    "Mortal223",
    "Mortal224",
    "Mortal225",
    "Mortal226",
    "Mortal227",
    "Mortal228",
    "Mortal229",
    "Mortal230",
    "Mortal231",
    "Mortal232",
    "Mortal233",
    "Mortal234",
    "Mortal235",
    "Mortal236",
    "Mortal237",
    "Mortal238",
    "Mortal239",
    "Mortal240",
    "Mortal241",
    "Mortal242",
    "Mortal243",
    "Mortal244",
    "Mortal245",
    "Mortal246",
    "Mortal247",
    "Mortal248",
    "Mortal249",
    "Mortal250",
    "Mortal251",
    "Mortal252",
    "Mortal253",
    "Mortal254",
    "Mortal255",
];

/// Described as Substrate does: variant 0 `Immortal`, variants 1–255
/// `MortalN(u8)` (the second byte), so metadata-driven decoders read it.
impl TypeInfo for Era {
    type Identity = Self;
    fn type_info() -> scale_info::Type {
        use scale_info::build::{Fields, Variants};
        let mut variants = Variants::new().variant("Immortal", |v| v.index(0));
        for (i, name) in MORTAL_NAMES.iter().enumerate() {
            let index = u8::try_from(i + 1).unwrap_or(u8::MAX);
            variants = variants.variant(*name, |v| {
                v.index(index)
                    .fields(Fields::unnamed().field(|f| f.ty::<u8>()))
            });
        }
        scale_info::Type::builder()
            .path(scale_info::Path::new("Era", module_path!()))
            .variant(variants)
    }
}

impl Decode for Era {
    fn decode<I: Input>(input: &mut I) -> Result<Self, Error> {
        let first = input.read_byte()?;
        if first == 0 {
            return Ok(Era::Immortal);
        }
        let encoded = first as u64 + ((input.read_byte()? as u64) << 8);
        let period = 2u64 << (encoded % (1 << 4));
        let quantize = (period >> 12).max(1);
        let phase = (encoded >> 4) * quantize;
        if period >= 4 && phase < period {
            Ok(Era::Mortal(period, phase))
        } else {
            Err("invalid mortal era".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substrate_vectors() {
        // From Substrate's era tests.
        assert_eq!(Era::Immortal.encode(), vec![0]);
        let e = Era::mortal(64, 42);
        assert_eq!(e, Era::Mortal(64, 42));
        assert_eq!(e.encode(), vec![165, 2]);
        assert_eq!(Era::decode(&mut &[165u8, 2][..]).unwrap(), e);
        let e = Era::mortal(32768, 20000);
        assert_eq!(e.encode(), vec![78, 156]);
        assert_eq!(e.birth(20000), 20000);
        assert_eq!(e.death(20000), 52768);
    }

    #[test]
    fn birth_and_death() {
        let e = Era::mortal(4, 6);
        assert_eq!(e.birth(6), 6);
        assert_eq!(e.birth(9), 6);
        assert_eq!(e.death(9), 10);
        assert_eq!(Era::Immortal.death(5), u64::MAX);
    }

    #[test]
    fn every_two_byte_value_decodes_or_errors() {
        for a in 1u8..=255 {
            for b in 0u8..=255 {
                if let Ok(e) = Era::decode(&mut &[a, b][..]) {
                    // Round trip is canonical for valid eras.
                    assert_eq!(Era::decode(&mut &e.encode()[..]).unwrap(), e);
                }
            }
        }
    }
}
