"use strict";
// Filters every table of the report in place: no server, no request. Each row's text is read
// once, so a report of thousands of files filters as fast as one types.
(() => {
  const search = document.getElementById("filter");
  const only = document.getElementById("component");
  const statusBoxes = [...document.querySelectorAll("input[data-status]")];
  const severityBoxes = [...document.querySelectorAll("input[data-severity]")];
  const severities = new Set(severityBoxes.map((box) => box.dataset.severity));
  const sections = [...document.querySelectorAll("[data-component].component, .card[data-component]")];
  const tables = [...document.querySelectorAll("table.filterable")].map((table) => ({
    counter: table.previousElementSibling,
    rows: [...table.tBodies[0].rows].map((tr) => ({
      tr,
      text: tr.textContent.toLowerCase(),
      component: tr.dataset.component ?? tr.closest("section[data-component]")?.dataset.component ?? "",
      status: tr.dataset.status ?? "",
      severity: tr.dataset.severity ?? "",
    })),
  }));

  function apply() {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    const component = only.value;
    const statuses = new Set(statusBoxes.filter((box) => box.checked).map((box) => box.dataset.status));
    const shownSeverities = new Set(severityBoxes.filter((box) => box.checked).map((box) => box.dataset.severity));
    for (const { counter, rows } of tables) {
      let shown = 0;
      for (const row of rows) {
        const visible =
          words.every((word) => row.text.includes(word)) &&
          (!component || !row.component || row.component === component) &&
          (!row.status || statuses.has(row.status)) &&
          (!severities.has(row.severity) || shownSeverities.has(row.severity));
        row.tr.hidden = !visible;
        if (visible) shown += 1;
      }
      if (counter?.classList.contains("shown")) {
        counter.textContent = `${shown} of ${rows.length} shown`;
      }
    }
    for (const section of sections) {
      section.hidden = Boolean(component) && section.dataset.component !== component;
    }
  }

  search.addEventListener("input", apply);
  only.addEventListener("change", apply);
  for (const box of [...statusBoxes, ...severityBoxes]) box.addEventListener("change", apply);
  apply();
})();
