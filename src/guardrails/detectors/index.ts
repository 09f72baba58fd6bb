import { card } from "./card";
import { email } from "./email";
import { iban } from "./iban";
import { ip } from "./ip";
import { phone } from "./phone";
import { secrets } from "./secrets";
import type { Matcher } from "./span";
import { ssn } from "./ssn";

/** The built-in detectors by the name a config uses, each with the placeholder type its redactions get. */
export const DETECTORS = {
  email: { matcher: email, placeholder: "EMAIL" },
  phone: { matcher: phone, placeholder: "PHONE" },
  card: { matcher: card, placeholder: "CARD" },
  iban: { matcher: iban, placeholder: "IBAN" },
  ssn: { matcher: ssn, placeholder: "SSN" },
  ip: { matcher: ip, placeholder: "IP" },
  secret: { matcher: secrets, placeholder: "SECRET" },
} as const satisfies Record<string, { matcher: Matcher; placeholder: string }>;

export type DetectorName = keyof typeof DETECTORS;
export const DETECTOR_NAMES = Object.keys(DETECTORS) as [DetectorName, ...DetectorName[]];
