// GB/T 2260 divisions, from the table the gateway validates with (/console/divisions.json).
let table = {};

export async function loadDivisions() {
  const response = await fetch("divisions.json", { credentials: "same-origin" });
  if (!response.ok) throw new Error(`divisions.json answered ${response.status}`);
  table = (await response.json()).divisions;
}

export function isKnownDivision(code) {
  return Object.hasOwn(table, code);
}

// "江苏省苏州市太仓市", the way services.common.divisions.full_name joins it: a
// municipality's prefecture row repeats the province's name and is not repeated.
export function divisionName(code) {
  const names = [];
  let current = table[code];
  let guard = 0;
  while (current && guard < 4) {
    names.unshift(current[0]);
    current = current[1] ? table[current[1]] : null;
    guard += 1;
  }
  return names.filter((name, i) => i === 0 || names[i - 1] !== name).join("");
}

export function shortDivisionName(code) {
  return table[code]?.[0] ?? code;
}

// The hukou division the window accepts: a known county-level code.
export function hukouDivisionProblem(code) {
  if (!code) return "check.required";
  if (!/^\d{6}$/.test(code)) return "check.division.format";
  if (!isKnownDivision(code)) return "check.division.unknown";
  if (code.endsWith("00")) return "check.division.county";
  return null;
}
