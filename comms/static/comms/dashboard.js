// The operator dashboard: ticks each SLA countdown every second and fetches the open incidents
// again every data-refresh-seconds from data-refresh-url (the admin's own session). Rows are built
// with textContent, never HTML from the server. Without this script the page reloads itself.
"use strict";
(function () {
  const board = document.getElementById("vigil-dashboard");
  if (!board) return;
  const url = board.dataset.refreshUrl;
  const every = Number(board.dataset.refreshSeconds || 30) * 1000;

  // Two units at most, as oncall.formatting.duration writes them: "45 s", "5 min", "2 h 10 min", "3 d 4 h".
  function duration(seconds) {
    seconds = Math.floor(seconds);
    if (seconds < 60) return seconds + " s";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min";
    const hours = Math.floor(minutes / 60), restMinutes = minutes % 60;
    if (hours < 24) return restMinutes ? hours + " h " + restMinutes + " min" : hours + " h";
    const days = Math.floor(hours / 24), restHours = hours % 24;
    return restHours ? days + " d " + restHours + " h" : days + " d";
  }

  // A countdown's length, as comms/admin/dashboard.py's `left`: to the second within the hour.
  function left(seconds) {
    seconds = Math.floor(seconds);
    if (seconds >= 3600) return duration(seconds);
    const minutes = Math.floor(seconds / 60), rest = seconds % 60;
    return minutes ? minutes + " min " + String(rest).padStart(2, "0") + " s" : rest + " s";
  }

  function tick() {
    const now = Date.now();
    for (const cell of board.querySelectorAll("td.countdown[data-due]")) {
      const remaining = (Date.parse(cell.dataset.due) - now) / 1000;
      const span = cell.querySelector(".left");
      span.textContent = remaining >= 0 ? "in " + left(remaining) : left(-remaining) + " overdue";
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
