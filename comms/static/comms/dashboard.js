// The operator dashboard: ticks each SLA countdown every second and fetches the open incidents
// again every data-refresh-seconds from data-refresh-url (the admin's own session). Rows are built
// with textContent, never HTML from the server. Without this script the page reloads itself.
"use strict";
(function () {
  const board = document.getElementById("vigil-dashboard");
  if (!board) return;
  const url = board.dataset.refreshUrl;
  const every = Number(board.dataset.refreshSeconds || 30) * 1000;

  const words = window.vigilCountdown; // incidents/static/incidents/countdown.js

  function tick() {
    const now = Date.now();
    for (const cell of board.querySelectorAll("td.countdown[data-due]")) {
      const remaining = (Date.parse(cell.dataset.due) - now) / 1000;
      const span = cell.querySelector(".left");
      span.textContent = words(remaining);
      span.classList.toggle("overdue", remaining < 0);
    }
  }

  function badge(text, colors) {
    const span = document.createElement("span");
    span.className = "vigil-badge";
    span.textContent = text;
    span.style.backgroundColor = colors[0];
    span.style.color = colors[1];
    return span;
  }

  function cell(row, ...children) {
    const td = document.createElement("td");
    for (const child of children) td.append(child);
    row.append(td);
    return td;
  }

  function render(data) {
    document.getElementById("open-count").textContent = data.count_text;
    const table = document.getElementById("open-incidents");
    const tbody = table.tBodies[0];
    const rows = data.rows.map((item) => {
      const tr = document.createElement("tr");
      const link = document.createElement("a");
      link.href = item.url;
      link.textContent = item.reference;
      cell(tr, link);
      cell(tr, item.title).className = "title";
      cell(tr, badge(item.severity, item.severity_colors));
      cell(tr, badge(item.status, item.status_colors), " ", badge("SLA " + item.sla_state, item.sla_colors));
      cell(tr, item.commander);
      const due = cell(tr);
      due.className = "countdown";
      if (item.next_due) {
        due.dataset.due = item.next_due.due_at;
        due.title = item.next_due.name + " due " + item.next_due.due_local;
        const remaining = document.createElement("span");
        remaining.className = "left";
        due.append(item.next_due.name + " ", remaining);
      } else {
        due.textContent = "all met";
      }
      return tr;
    });
    tbody.replaceChildren(...rows);
    table.hidden = rows.length === 0;
    document.getElementById("no-open").hidden = rows.length !== 0;
    tick();
  }

  async function refresh() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) render(await response.json());
    } catch (error) {
      // Offline for a moment: keep the last rows and try again at the next interval.
    }
  }

  tick();
  setInterval(tick, 1000);
  setInterval(refresh, every);
})();
