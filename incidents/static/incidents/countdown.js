// The words of an SLA countdown, as incidents.formatting.countdown writes them ("in 4 min 05 s",
// "1 h 10 min overdue": to the second within the hour, else two units as oncall.formatting.duration):
// one definition for every page that ticks one (the incident page, the operator dashboard).
"use strict";
window.vigilCountdown = (function () {
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

  function left(seconds) {
    seconds = Math.floor(seconds);
    if (seconds >= 3600) return duration(seconds);
    const minutes = Math.floor(seconds / 60), rest = seconds % 60;
    return minutes ? minutes + " min " + String(rest).padStart(2, "0") + " s" : rest + " s";
  }

  // `remaining`: seconds until the deadline (negative once it passed).
  return function (remaining) {
    return remaining >= 0 ? "in " + left(remaining) : left(-remaining) + " overdue";
  };
})();
