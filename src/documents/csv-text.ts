/**
 * Text that goes into a CSV a person opens in a spreadsheet: a cell starting with a character that
 * makes a spreadsheet read it as a formula (=, +, -, @, tab, carriage return: OWASP "CSV injection")
 * gets a leading apostrophe. For cells that hold text from people or imported files (names, titles,
 * neighbourhoods); figures the app formats itself ("+1", "-2") are written as they are.
 */
export function csvText(text: string): string {
  return /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/.test(text) ? `'${text}` : text;
}
