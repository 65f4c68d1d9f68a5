// Parse an iCalendar feed from stdin with Mozilla's ical.js (what Thunderbird
// uses) and print its events as JSON; exit 1 with the error when it fails.
import ICAL from "ical.js";

let text = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) text += chunk;

try {
  const calendar = new ICAL.Component(ICAL.parse(text));
  // Resolve TZIDs through the feed's own VTIMEZONE blocks, not a built-in table.
  for (const block of calendar.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(new ICAL.Timezone(block));
  }
  const events = calendar.getAllSubcomponents("vevent").map((component) => {
    const event = new ICAL.Event(component);
    const start = event.startDate;
    return {
      uid: event.uid,
      sequence: event.sequence,
      summary: event.summary,
      status: component.getFirstPropertyValue("status"),
      all_day: start.isDate,
      start_local: start.toString(),
      start_utc: start.isDate ? null : start.toUnixTime(),
      tzid: start.zone ? start.zone.tzid : null,
    };
  });
  process.stdout.write(
    JSON.stringify({
      name: calendar.getFirstPropertyValue("x-wr-calname"),
      timezones: calendar.getAllSubcomponents("vtimezone").length,
      events,
    }),
  );
} catch (error) {
  process.stderr.write(`ical.js: ${error}\n`);
  process.exit(1);
}
