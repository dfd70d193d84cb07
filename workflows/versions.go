package workflows

// Change IDs for workflow.GetVersion: every change to a workflow's commands
// is guarded by one, kept here beside the recorded history that replays its
// old branch (workflows/testdata, TestReplayBasicScenarioHistory). A branch
// can go once no history that took it is still kept: the namespace's
// retention after the last incident opened before the change closed (an
// incident stays open for its longest duty, then the retention runs).
const (
	// changeDeadlines tracks each duty's due time in the workflow (timers,
	// reminders). Old branch: none; replayed by incident_basic.json.
	changeDeadlines = "deadlines"
	// changeFanout runs the campaign as partitions of NotifyWorkflow
	// children instead of the rung-by-rung batch loop (notifyRung).
	// Old branch: incident_basic.json; new: incident_fanout.json.
	changeFanout = "fanout"
	// changeWarRoomReview posts review buttons and campaign progress to
	// the war room. Old branch: incident_fanout.json; new: incident_review.json.
	changeWarRoomReview = "warroom-review"
	// changeNoLateReminders stops reminding of a duty once it is overdue.
	// Old branch: incident_fanout.json; new: incident_review.json.
	changeNoLateReminders = "no-late-reminders"
	// changeAwaitBounces awaits bounces like receipts before a rung that
	// sent e-mail is resolved. Old branch: incident_fanout_notify.json;
	// new: incident_bounces_notify.json.
	changeAwaitBounces = "await-bounces"
	// changeHandlersFinish waits for running update handlers before the
	// incident completes. Old branch: every history above; new:
	// incident_encrypted.json (also the first recorded with encrypted
	// payloads and signed actors).
	changeHandlersFinish = "handlers-finish"
	// changeRecordProgress writes the incident's record to the store as
	// it changes (RecordIncident), so it outlives the history. Old branch:
	// every history above; new: incident_encrypted.json.
	changeRecordProgress = "record-progress"
	// changeWithholdWaived takes the residents whose every duty to be told
	// legal waived out of the campaign (WithholdNotice) as notice begins.
	// Old branch: every history above; new: incident_withhold.json (the
	// second incident of the basic scenario, recorded as rec_withheld.json).
	changeWithholdWaived = "withhold-waived"
	// changeWaiverReleasesNotice lets notice go ahead without legal's
	// approval of the report of a waived duty (a marker before the wait
	// for approval). Old branch: every history above; new:
	// incident_charter.json.
	changeWaiverReleasesNotice = "waiver-releases-notice"
	// changeCharter checks each run against the store before it acts
	// (ClaimCharter) and takes the incident's drill mode, scope and opener
	// from there. Old branch: every history above; new:
	// incident_charter.json.
	changeCharter = "charter"
	// changeFactsDuringRender drafts again, with the new facts, a draft
	// that was rendering when facts were set (a marker in the facts
	// handler, only then). Old branch: every history above (none sets
	// facts during a render); the new branch has a workflow test
	// (TestFactsSetWhileADraftRendersReachIt), no recorded history yet.
	changeFactsDuringRender = "facts-during-render"
	// changeFailurePosted tells the war room, when one is open, that the
	// plan stopped and why (a playbook that no longer loads, a report form
	// that fails): responders watch the channel, not the server's log. Old
	// branch: every history above (none fails); the new branch has a
	// workflow test (TestAPlanThatStopsSaysWhyInTheWarRoom).
	changeFailurePosted = "failure-posted"
	// changeLawfulChannels hands the campaign's partitions the law's
	// channels for each duty to individuals (NotifyInput.Lawful), so each
	// person is told only by channels every duty to them accepts. Old
	// branch: every history above (their partitions send by the ladder
	// alone); the new branch: TestEachPersonIsToldOnlyByLawfulChannels.
	changeLawfulChannels = "lawful-channels"
	// changeReturnedMail keeps an incident whose letters went out, and no
	// public announcement, open for returned mail (the playbook's
	// returns_window), drafting the announcement when a return leaves
	// anyone unreached (a marker as individual duties are marked met).
	// Old branch: every history above; new: incident_returns.json.
	changeReturnedMail = "returned-mail"
	// changeDelayMovesDue makes a duty's reminders and overdue alert
	// follow its due time when a law-enforcement delay moves it (the
	// delay update); before, they kept the time assessed.
	// Old branch: every history above; new: incident_delay.json.
	changeDelayMovesDue = "delay-moves-due"
	// changeFollowUpWaves runs follow-up waves (the add update) in the
	// wait for filings, and keeps an incident open until every wave asked
	// for has run (a marker as that wait begins). A wave drafts its new
	// duties' texts and the supplementary reports of regulators whose
	// jurisdiction it adds people to.
	// Old branch: every history above; new: incident_wave.json.
	changeFollowUpWaves = "follow-up-waves"
	// changeCorrections runs corrections of notices that went out (the
	// correct update) in the wait for filings, which no longer ends while
	// one is queued (a marker as that wait begins).
	// Old branch: every history above; new: incident_correction.json.
	changeCorrections = "corrections"
	// changePaceWarning tells the war room, as a campaign starts, of each
	// duty to tell people it would miss at the configured rates
	// (ProjectPace). Old branch: every history above; the new branch has
	// a workflow test (TestACampaignThatWouldMissADutyWarnsTheWarRoom), no
	// recorded history: a campaign that slow does not end inside a test.
	changePaceWarning = "pace-warning"
	// changeWiderBatchWindow runs 16 batches of a partition at once
	// unless configured (was 4): a batch lasts as long as its slowest
	// call, so on a provider's bad day the window bounds the rate. Old
	// branch: every history above; new branch: incident_window.json. The
	// window reaches the partitions only in their input, which replay does
	// not compare, so TestACampaignRunsSixteenBatchesAtOnceUnlessConfigured
	// is what fails when the branch is lost.
	changeWiderBatchWindow = "wider-batch-window"
	// changeEarliestDueFirst sends the first rung to the residents of the
	// regions whose duty to be told falls due first before the campaign
	// (earliestDueFirst). Old branch: every history above; new branch:
	// incident_due_first.json.
	changeEarliestDueFirst = "earliest-due-first"
	// changeSettleRung lets a partition's batches go on past provider calls
	// that hang and leave their sends in doubt to a settling step per rung
	// (SettleRung) before the rung resolves: a batch no longer lasts as long
	// as its slowest call. Old branch: every history above; new branch:
	// incident_settle_notify.json.
	changeSettleRung = "settle-rung"
	// changeGoAhead sends the next rung to the people a settling rung can
	// no longer reach while it settles (goAhead), rather than after: a
	// rung's slowest calls no longer hold up the next rung's sending. Old
	// branch: every history above; new branch: incident_go_ahead_notify.json.
	changeGoAhead = "go-ahead"
	// changeFirstRungSlot lets a campaign start another partition when one
	// has sent its first rung (SignalFirstRungSent), rather than when it
	// ends: the rest of a partition is mostly waiting (settling, receipts,
	// the few its first rung did not reach). In the incident (runPartitions)
	// and its partitions (NotifyWorkflow). Old branch: every history above;
	// new branch: incident_first_rung_slot.json and its _notify.json.
	changeFirstRungSlot = "first-rung-slot"
	// changeSettleAhead settles what the next rung's pass ahead left in
	// doubt as soon as that pass ends, beside the rung still settling,
	// rather than after the next rung's own pass: a text left in doubt is
	// asked about in seconds, not minutes. Old branch: every history above;
	// new branch: incident_settle_ahead_notify.json.
	changeSettleAhead = "settle-ahead"
	// changePaceWatch projects a running campaign every paceWatchEvery at
	// the rates it measures, and tells the war room of a duty it would
	// then miss (watchPace). Old branch: every history above; the new
	// branch has a workflow test (TestASlowCampaignWarnsTheWarRoomAtItsMeasuredPace)
	// and incident_pace_watch.json.
	changePaceWatch = "pace-watch"
)

// Changes that need no change ID, and why:
//   - the waive update (UpdateWaive): registering a handler adds no
//     command, and a waived filing can only follow a waive update, which
//     older histories do not carry. incident_waive.json replays one.
//   - the record's summary and facts (RecordInput.Summary, Progress.Facts):
//     an activity's input and a query's answer are not commands.
