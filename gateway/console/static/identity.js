// What the window checks of an identity number, a division code or a credit code before the
// clerk sends anything: the same rules as the gateway (services/common/identity.py,
// gateway/validation.py), so the clerk fixes a typing error while the applicant is still at
// the counter. The server checks again; nothing here is trusted.

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARACTERS = "10X98765432";

export function normalizeIdNumber(value) {
  const compact = value.replace(/\s+/g, "");
  return compact.endsWith("x") ? compact.slice(0, -1) + "X" : compact;
}

// GB 11643 check character (ISO 7064 MOD 11-2) of the first 17 digits.
export function checkCharacter(first17) {
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK_CHARACTERS[sum % 11];
}

// The bureau's date (China Standard Time, as services/common/clock.py reckons it), whatever
// the PC's own zone: a PC set to UTC is still on yesterday until 08:00, and would call a
// child born today "born in the future" where the server accepts it.
const BUREAU_DATE = new Intl.DateTimeFormat("en-CA", {
  timeZone: "Asia/Shanghai",
  year: "numeric",
  month: "numeric",
  day: "numeric",
});

export function localToday(now = new Date()) {
  const parts = Object.fromEntries(BUREAU_DATE.formatToParts(now).map((part) => [part.type, part.value]));
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day) };
}

// As gateway/validation.py's EARLIEST_BIRTH: any four-digit year parses, nobody the bureau
// serves was born before 1900, and the server refuses such a number.
const EARLIEST_BIRTH_YEAR = 1900;

function isRealDate(year, month, day) {
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
  );
}

function before(a, b) {
  return a.year !== b.year ? a.year < b.year : a.month !== b.month ? a.month < b.month : a.day < b.day;
}

// {problem: dictionary key or null, born: {year, month, day}, sex: "male" | "female"}
export function examineIdNumber(raw, today = localToday()) {
  const value = normalizeIdNumber(raw);
  if (!value) return { problem: "check.required" };
  if (/^\d{15}$/.test(value)) return { problem: "check.id.fifteen" };
  if (value.length !== 18) return { problem: "check.id.length", params: { n: value.length } };
  if (!/^\d{17}[\dX]$/.test(value)) return { problem: "check.id.format" };
  if (checkCharacter(value) !== value[17]) return { problem: "check.id.check_digit" };
  const born = {
    year: Number(value.slice(6, 10)),
    month: Number(value.slice(10, 12)),
    day: Number(value.slice(12, 14)),
  };
  if (born.year < EARLIEST_BIRTH_YEAR || !isRealDate(born.year, born.month, born.day)) {
    return { problem: "check.id.birth_date" };
  }
  if (before(today, born)) return { problem: "check.id.birth_future" };
  return { problem: null, born, sex: Number(value[16]) % 2 === 1 ? "male" : "female" };
}

// Full years on ``today``; the birthday counts on the day itself (29 February turns a year
// older on 1 March), as identity.age_on does.
export function ageOn(born, today = localToday()) {
  let age = today.year - born.year;
  if (today.month < born.month || (today.month === born.month && today.day < born.day)) age -= 1;
  return age;
}

export function formatBirth(born) {
  return `${born.year}-${String(born.month).padStart(2, "0")}-${String(born.day).padStart(2, "0")}`;
}

// Unified social credit code (GB 32100): 18 characters, the last a MOD 31 check character.
const CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

export function creditCodeProblem(raw) {
  const value = raw.trim().toUpperCase();
  if (!value) return "check.required";
  if (value.length !== 18 || [...value].some((c) => !CREDIT_ALPHABET.includes(c))) {
    return "check.credit_code.format";
  }
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += CREDIT_ALPHABET.indexOf(value[i]) * CREDIT_WEIGHTS[i];
  const expected = CREDIT_ALPHABET[(31 - (sum % 31)) % 31];
  return expected === value[17] ? null : "check.credit_code.check_digit";
}

export const PHONE = /^(?:1[0-9]{10}|0[0-9]{2,3}-?[0-9]{7,8})$/;
export const RECEIPT = /^\d{6}-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/;

// The receipt slip's QR holds the status page's address, http(s)://host[/base]/s/{receipt}?c={code}
// (gateway/status_page.py), and a scanner types it into whichever field has the focus; the
// receipt is its path's last segment. Matched in any case: the look-up capitalises as it is typed.
const STATUS_PAGE_LINK = /^https?:\/\/[^\s/?#]+(?:\/[^\s?#]*)?\/s\/([^\s/?#]+)\/?(?:[?#]\S*)?$/i;

// The receipt a clerk typed or scanned: a status page's address gives the receipt in it,
// anything else stands as typed; in capitals, as receipts are written. Check it with RECEIPT.
export function receiptTyped(typed) {
  const value = typed.trim();
  const link = STATUS_PAGE_LINK.exec(value);
  if (!link) return value.toUpperCase();
  try {
    return decodeURIComponent(link[1]).toUpperCase();
  } catch {
    // A broken escape is no receipt: returned as it stands, RECEIPT refuses it.
    return link[1].toUpperCase();
  }
}
