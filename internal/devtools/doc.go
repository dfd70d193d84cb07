// Package devtools holds what runs beside Tocsin but is not Tocsin: the
// local peers that speak the Slack, Twilio and SMTP protocols for dev mode,
// staging and the tests (devpeers), the campaign benchmark (bench), and the
// autopilot that plays responders and legal through the API (autopilot).
// Production code does not import it; internal/app wires it into `tocsin
// dev` and `tocsin peers`.
package devtools
