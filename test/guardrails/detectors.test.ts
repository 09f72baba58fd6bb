import { describe, expect, it } from "vitest";
import { findCardNumbers } from "../../src/guardrails/detectors/card";
import { findEmails } from "../../src/guardrails/detectors/email";
import { findIbans } from "../../src/guardrails/detectors/iban";
import { DETECTORS, type DetectorName } from "../../src/guardrails/detectors";
import { findIpAddresses } from "../../src/guardrails/detectors/ip";
import { luhnValid } from "../../src/guardrails/detectors/luhn";
import { findPhoneNumbers } from "../../src/guardrails/detectors/phone";
import { findSecrets } from "../../src/guardrails/detectors/secrets";
import type { Span } from "../../src/guardrails/detectors/span";
import { findSsns } from "../../src/guardrails/detectors/ssn";

/** The matched texts, so a failure shows what was found. */
const found = (find: (text: string) => Span[], text: string) => find(text).map((s) => text.slice(s.start, s.end));

describe("email", () => {
  it.each(["jane.doe+tag@example.co.uk", "a_b@sub.example.io"])("finds %s", (address) => {
    expect(found(findEmails, `mail ${address}, please`)).toEqual([address]);
  });
  it("stops at surrounding punctuation and a sentence's final dot", () => {
    expect(found(findEmails, "(bob@example.com) and write to amy@example.org.")).toEqual(["bob@example.com", "amy@example.org"]);
  });
  it.each(["@handle", "foo@bar", "a@b.c", "user@localhost", "x@-bad.com", ".@example.com", "an @ sign"])("ignores %s", (text) => {
    expect(findEmails(text)).toEqual([]);
  });
});

describe("card (Luhn)", () => {
  it("checks the Luhn digit", () => {
    expect(luhnValid("4111111111111111")).toBe(true);
    expect(luhnValid("4111111111111112")).toBe(false);
    expect(luhnValid("79927398713")).toBe(true);
  });
  it.each(["4111 1111 1111 1111", "4242424242424242", "378282246310005", "5555-5555-5555-4444", "6011111111111117", "2223003122003222"])("finds %s", (number) => {
    expect(found(findCardNumbers, `card: ${number}.`)).toEqual([number]);
  });
  it.each([
    ["fails Luhn", "4111 1111 1111 1112"],
    ["fails Luhn, no spaces", "5555555555554445"],
    ["passes Luhn but no card network starts with 1", "1234567812345670"],
    ["too long", "4111111111111111111111"],
    ["glued to letters", "ref4111111111111111x"],
    ["too short", "4111 1111 111"],
  ])("ignores a number that %s", (_why, number) => {
    expect(findCardNumbers(`value ${number} here`)).toEqual([]);
  });
});

describe("IBAN (mod-97)", () => {
  it.each(["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "FR14 2004 1010 0505 0001 3M02 606", "NL91ABNA0417164300"])("finds %s", (iban) => {
    expect(found(findIbans, `pay to ${iban} today`)).toEqual([iban]);
  });
  it("ends at the country's length even when words follow", () => {
    expect(found(findIbans, "DE89 3704 0044 0532 0130 00 is mine")).toEqual(["DE89 3704 0044 0532 0130 00"]);
  });
  it.each(["GB82 WEST 1234 5698 7654 33", "XX82 WEST 1234 5698 7654 32", "DE89 3704 0044 0532 0130", "AB12 cdef ghij"])("ignores %s", (text) => {
    expect(findIbans(text)).toEqual([]);
  });
});

describe("US SSN", () => {
  it("finds an issued-range number", () => {
    expect(found(findSsns, "SSN 123-45-6789.")).toEqual(["123-45-6789"]);
  });
  it.each(["000-12-3456", "666-12-3456", "900-12-3456", "123-00-4567", "123-45-0000", "1123-45-6789", "123-45-67890", "123456789"])("ignores %s", (text) => {
    expect(findSsns(text)).toEqual([]);
  });
});

describe("phone", () => {
  it.each(["+1 415 555 0100", "(415) 555-0100", "415-555-0100", "415.555.0100", "+44 20 7946 0958", "020 7946 0958", "+4915123456789"])("finds %s", (number) => {
    expect(found(findPhoneNumbers, `call ${number} now`)).toEqual([number]);
  });
  it.each(["2024-01-15", "3.14159265", "1234567", "order 12345", "4111 1111 1111 1111", "123-45-6789", "192.168.1.10", "1 2 3 4 5 6 7 8 9 10"])("ignores %s", (text) => {
    expect(findPhoneNumbers(text)).toEqual([]);
  });
});

describe("IP address", () => {
  it.each(["192.168.1.10", "10.0.0.1", "2001:db8::1", "::1", "fe80::1ff:fe23:4567:890a", "::ffff:192.0.2.1", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"])("finds %s", (address) => {
    expect(found(findIpAddresses, `host ${address}.`)).toEqual([address]);
  });
  it.each(["256.1.1.1", "1.2.3", "10:30:45", "version 1.2.3", "a:b:c", "1.2.3.4.5", "01.2.3.4"])("ignores %s", (text) => {
    expect(findIpAddresses(text)).toEqual([]);
  });
});

describe("secrets", () => {
  const jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
  const pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx\n-----END RSA PRIVATE KEY-----";
  it.each([
    ["an OpenAI project key", "sk-proj-abcdefghijklmnopqrstuvwx1234"],
    ["an Anthropic key", "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"],
    ["an AWS access key id", "AKIAIOSFODNN7EXAMPLE"],
    ["a GitHub token", `ghp_${"a1B2".repeat(9)}`],
    ["a Google API key", `AIza${"x".repeat(35)}`],
    ["a Stripe key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"],
    ["a JWT", jwt],
    ["a private-key block", pem],
  ])("finds %s", (_what, secret) => {
    expect(found(findSecrets, `use ${secret} here`)).toEqual([secret]);
  });
  it("matches an unterminated private-key block to the end", () => {
    expect(found(findSecrets, "-----BEGIN PRIVATE KEY-----\nMIIEvQ")).toEqual(["-----BEGIN PRIVATE KEY-----\nMIIEvQ"]);
  });
  it.each(["sk-short", "task-force-alpha-bravo-charlie-delta", "AKIA", "AKIAIOSFODNN7EXAMPL", "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----", "eyJhbGci", "mask-abcdefghijklmnopqrstuvwxyz"])("ignores %s", (text) => {
    expect(findSecrets(text)).toEqual([]);
  });
});

describe("heldFrom (what a stream must hold back)", () => {
  const held = (name: DetectorName, text: string) => text.slice(DETECTORS[name].matcher.heldFrom(text));
  it("holds only the tail that may still become a match", () => {
    expect(held("card", "pay 4111 1111 11")).toBe("4111 1111 11");
    expect(held("card", "pay 4111 1111 1111 1111 now")).toBe("");
    expect(held("iban", "to GB82 WE")).toBe("GB82 WE");
    expect(held("iban", "token1 ")).toBe("");
    expect(held("secret", "key sk-pro")).toBe("sk-pro");
    expect(held("secret", "key s")).toBe("s");
    expect(held("secret", "the token1")).toBe("");
    expect(held("secret", "x -----BEGIN RSA PRIVATE KEY-----\nMIIE")).toBe("-----BEGIN RSA PRIVATE KEY-----\nMIIE");
    expect(held("secret", "a ---")).toBe("---");
    expect(held("phone", "call +1 415 5")).toBe("+1 415 5");
    expect(held("email", "mail jane.do")).toBe("jane.do");
    expect(held("email", "mail jane ")).toBe("");
  });
  it("never holds more than the longest match", () => {
    for (const [name, { matcher }] of Object.entries(DETECTORS)) {
      const text = `${"7".repeat(20_000)}`;
      expect(text.length - matcher.heldFrom(text), name).toBeLessThan(matcher.maxLength);
    }
  });
});
