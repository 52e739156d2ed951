// yardstick leaderboard: sortable tables and the sample browser's failure filter. No network.
"use strict";

function cellValue(row, index, numeric) {
  const cell = row.cells[index];
  const raw = cell ? (cell.dataset.value ?? cell.textContent) : "";
  if (!numeric) return raw.trim().toLowerCase();
  const number = parseFloat(raw);
  return Number.isNaN(number) ? null : number;
}

function sortBy(table, header) {
  const headers = Array.from(header.parentNode.children);
  const index = headers.indexOf(header);
  const numeric = header.dataset.type === "number";
  const ascending = header.getAttribute("aria-sort") !== "ascending";
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = cellValue(a, index, numeric);
    const y = cellValue(b, index, numeric);
    if (x === y) return 0;
    if (x === null || x === "") return 1; // missing values last
    if (y === null || y === "") return -1;
    const order = x < y ? -1 : 1;
    return ascending ? order : -order;
  });
  rows.forEach((row) => body.appendChild(row));
  headers.forEach((h) => h.removeAttribute("aria-sort"));
  header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("table.sortable").forEach((table) => {
    table.querySelectorAll("thead th").forEach((header) => {
      header.addEventListener("click", () => sortBy(table, header));
    });
  });
  const filter = document.getElementById("failures-only");
  const samples = document.getElementById("samples");
  if (filter && samples) {
    filter.addEventListener("change", () => samples.classList.toggle("failures-only", filter.checked));
  }
});
