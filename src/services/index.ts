/**
 * The services the web layer is given (composition root: buildApp({ config, services })).
 * Each function here is a use case with the database already bound, so routes never see `db`.
 */
import type { Database, Db } from '../db/client.js';
import { accountServices } from './accounts.js';
import * as apiTokens from './api-tokens.js';
import * as boardReport from './board-report.js';
import * as caseReviews from './case-reviews.js';
import { memberActor, systemActor, type Actor } from './actor.js';
import * as changes from './changes.js';
import * as comments from './comments.js';
import * as county from './county.js';
import * as cycles from './cycles.js';
import * as dashboard from './dashboard.js';
import * as funding from './funding.js';
import * as history from './history.js';
import * as localIncidents from './local-incidents.js';
import { Mailer, type MailSettings } from './mail.js';
import { SingleSignOn, type SingleSignOnSettings } from './oidc.js';
import * as planEdit from './plan-edit.js';
import * as planRead from './plan-read.js';
import * as planSheet from './plan-sheet.js';
import * as policeUk from './police-uk.js';
import * as policeTrends from './police-trends.js';
import { latestPlanYear, openPlan } from './plan-view.js';
import * as priorities from './priorities.js';
import * as progress from './progress.js';
import * as publicPlan from './public-plan.js';
import * as rollOver from './roll-over.js';
import { searchPlan } from './search.js';
import { DatabaseSessionStore } from './sessions.js';
import { clearSignInFailures, lockedForMinutes, recordSignInFailure } from './sign-in-throttle.js';
import * as users from './users.js';
import * as wordImport from './word-import.js';

type DropFirst<T extends unknown[]> = T extends [unknown, ...infer R] ? R : never;

type Bound<F> = F extends (db: Db, ...args: infer A) => infer R ? (...args: A) => R : never;

function bind<T extends Record<string, (db: Db, ...args: never[]) => unknown>>(
  db: Db,
  fns: T,
): { [K in keyof T]: Bound<T[K]> } {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(fns)) {
    out[name] = (...args: never[]) => fn(db, ...args);
  }
  return out as { [K in keyof T]: Bound<T[K]> };
}

export function createServices(
  database: Database,
  options: {
    sessionIdleMinutes?: number;
    /** OpenID Connect single sign-on; without it the sign-in page offers passwords only. */
    oidc?: SingleSignOnSettings | undefined;
    /** SMTP_URL and MAIL_FROM; without an SMTP URL, email stays in the in-app outbox. */
    mail?: MailSettings;
  } = {},
) {
  const db = database.db;
  const mailer = new Mailer(options.mail);
  return {
    health: () => database.health(),
    sessionStore: new DatabaseSessionStore(db, (options.sessionIdleMinutes ?? 120) * 60_000),
    oidc: options.oidc ? new SingleSignOn(db, options.oidc) : undefined,
    mailer,
    accounts: accountServices({ db, mailer }),
    /** The per-account sign-in lockout, kept in the database so every instance sees it. */
    signInLockout: bind(db, {
      lockedForMinutes,
      recordFailure: recordSignInFailure,
      recordSuccess: clearSignInFailures,
    }),
    users: bind(db, {
      authenticate: users.authenticate,
      getUser: users.getUser,
      getSignedIn: users.getSignedIn,
      getMember: users.getMember,
      getPartnershipMember: users.getPartnershipMember,
      listMemberships: users.listMemberships,
      recordSignIn: users.recordSignIn,
    }),
    plans: bind(db, {
      openPlan,
      getPartnershipBySlug: planRead.getPartnershipBySlug,
      currentPlanYear: latestPlanYear,
      searchPlan,
    }),
    edit: bind(db, {
      createSection: planEdit.createSection,
      updateSection: planEdit.updateSection,
      archiveSection: planEdit.archiveSection,
      createAim: planEdit.createAim,
      updateAim: planEdit.updateAim,
      archiveAim: planEdit.archiveAim,
      suggestAimNumber: planEdit.suggestAimNumber,
      createAction: planEdit.createAction,
      updateAction: planEdit.updateAction,
      archiveAction: planEdit.archiveAction,
      move: planEdit.move,
    }),
    /** Next year's plan from this year's: the coordinator chooses the aims that carry over. */
    rollOver: bind(db, { target: rollOver.rollOverTarget, create: rollOver.rollOver }),
    progress: {
      ...bind(db, {
        save: progress.saveProgress,
        saveMany: progress.saveProgressMany,
        mayUpdate: progress.mayUpdateProgress,
        get: progress.getProgress,
        formData: progress.progressFormData,
        reviewData: progress.reviewFormData,
        ledActionIds: progress.ledActionIds,
        updatesFor: progress.updatesFor,
      }),
      review: (...args: DropFirst<Parameters<typeof progress.reviewUpdate>>) =>
        progress.reviewUpdate({ db, mailer }, ...args),
    },
    /** The quarterly cycle: open, ask, remind, board, close, snapshot. */
    cycles: {
      ...bind(db, {
        list: cycles.listCycles,
        get: cycles.getCycle,
        board: cycles.submissionBoard,
        close: cycles.closeQuarter,
        snapshot: cycles.getSnapshot,
        amendments: cycles.listAmendments,
      }),
      open: (...args: DropFirst<Parameters<typeof cycles.openQuarter>>) =>
        cycles.openQuarter({ db, mailer }, ...args),
      requestOutstanding: (...args: DropFirst<Parameters<typeof cycles.requestOutstanding>>) =>
        cycles.requestOutstanding({ db, mailer }, ...args),
      sendDueReminders: (...args: DropFirst<Parameters<typeof cycles.sendDueReminders>>) =>
        cycles.sendDueReminders({ db, mailer }, ...args),
    },
    changes: bind(db, { list: changes.planChanges, byReport: changes.changesByReport }),
    /** The partnership dashboard of a plan for a quarter: statuses, submissions, coverage. */
    dashboard: bind(db, { get: dashboard.getDashboard }),
    /** The quarter's board report: from the closed snapshot, or a draft from the live plan. */
    boardReport: bind(db, { get: boardReport.getBoardReport }),
    /** The plan's priorities, changed mid-year by the coordinator. */
    priorities: bind(db, {
      get: priorities.getPriority,
      aimChoices: priorities.priorityAimChoices,
      create: priorities.createPriority,
      update: priorities.updatePriority,
      archive: priorities.archivePriority,
    }),
    history: bind(db, {
      aimHistory: history.aimHistory,
      auditTrail: history.auditTrail,
      auditTrailCsv: history.auditTrailCsv,
    }),
    comments: bind(db, {
      list: comments.listComments,
      count: comments.countComments,
      get: comments.getComment,
      add: comments.addComment,
      archive: comments.archiveComment,
    }),
    /** Tokens for the read-only API: the coordinator issues and revokes them. */
    apiTokens: bind(db, {
      list: apiTokens.listApiTokens,
      get: apiTokens.getApiToken,
      issue: apiTokens.issueApiToken,
      revoke: apiTokens.revokeApiToken,
      authenticate: apiTokens.authenticateApiToken,
    }),
    /** Funding lines on aims and actions, and the PCC's half-year budget report. */
    funding: bind(db, {
      listForPlan: funding.listPlanFunding,
      listForAim: funding.listAimFunding,
      get: funding.getFundingLine,
      targets: funding.fundingTargets,
      create: funding.createFundingLine,
      update: funding.updateFundingLine,
      archive: funding.archiveFundingLine,
      pccReport: funding.pccBudgetReport,
    }),
    /** The plan as a spreadsheet: XLSX and CSV export, import with a preview (docs/plan-spreadsheet.md). */
    planSheet: bind(db, {
      export: planSheet.exportPlanSheet,
      upload: planSheet.uploadPlanSheet,
      preview: planSheet.previewPlanSheet,
      confirm: planSheet.confirmPlanSheet,
    }),
    /** Importing a Word action plan as a new plan year: upload, preview and correct, save. */
    wordImport: bind(db, {
      upload: wordImport.uploadWordPlan,
      preview: wordImport.previewWordUpload,
      correct: wordImport.correctWordUpload,
      save: wordImport.saveWordUpload,
    }),
    /** The public page: published aims for residents, and the coordinator's publishing. */
    publicPlan: bind(db, {
      partnership: publicPlan.getPublicPartnership,
      plan: publicPlan.getPublicPlan,
      aim: publicPlan.getPublicAim,
      overview: publicPlan.publishingOverview,
      textForms: publicPlan.publicTextForms,
      publish: publicPlan.publishAim,
      unpublish: publicPlan.unpublishAim,
      publishAll: publicPlan.publishAllAims,
      saveText: publicPlan.savePublicText,
    }),
    /** police.uk trends for the partnership's area, the crime type ↔ priority links, the area. */
    policeTrends: bind(db, {
      trends: policeTrends.getCrimeTrends,
      priorityTrends: policeTrends.getPriorityTrends,
      links: policeTrends.getPriorityLinks,
      saveLinks: policeTrends.savePriorityLinks,
      area: policeTrends.getArea,
      saveArea: policeTrends.saveArea,
    }),
    /** police.uk files uploaded on the web, imported one after another in the background (docs/police-uk.md). */
    policeUpload: {
      ...bind(db, {
        start: policeUk.startPoliceUkUpload,
        get: policeUk.getPoliceUkImport,
        list: policeUk.listPoliceUkImports,
        months: policeUk.policeUkMonthsHeld,
        failInterrupted: policeUk.failInterruptedPoliceUkImports,
        stopAll: policeUk.stopPoliceUkImports,
      }),
      idle: policeUk.policeUkImportsIdle,
    },
    /** Fly-tipping and graffiti from a council CSV; DEFRA's fly-tipping table (docs/evidence-incidents.md). */
    localIncidents: bind(db, {
      overview: localIncidents.incidentsOverview,
      upload: localIncidents.uploadIncidentCsv,
      mappingForm: localIncidents.incidentMappingForm,
      map: localIncidents.mapIncidentUpload,
      preview: localIncidents.previewIncidentUpload,
      confirm: localIncidents.confirmIncidentUpload,
      settingsForm: localIncidents.incidentSettingsForm,
      saveSettings: localIncidents.saveIncidentSettings,
      importDefra: localIncidents.importDefraFiles,
    }),
    /** The county view: the partnerships a person holds roles in, side by side. */
    county: bind(db, { view: county.countyView }),
    /** ASB case reviews (the Community Trigger): the register, its settings, figures and redaction. */
    caseReviews: {
      ...bind(db, {
        register: caseReviews.caseReviewRegister,
        figures: caseReviews.caseReviewFigures,
        publicFigures: caseReviews.publicCaseReviewFigures,
        get: caseReviews.getCaseReview,
        officers: caseReviews.caseOfficerChoices,
        create: caseReviews.createCaseReview,
        updateApplication: caseReviews.updateCaseReviewApplication,
        recordReview: caseReviews.recordCaseReview,
        saveOutcome: caseReviews.saveCaseReviewOutcome,
        getRecommendation: caseReviews.getRecommendation,
        addRecommendation: caseReviews.addRecommendation,
        updateRecommendation: caseReviews.updateRecommendation,
        archiveRecommendation: caseReviews.archiveRecommendation,
        settings: caseReviews.getCaseReviewSettings,
        saveSettings: caseReviews.saveCaseReviewSettings,
        redactDue: caseReviews.redactDueCaseReviews,
      }),
      dailyRedaction: () => caseReviews.dailyRedactionJob(db, systemActor('scheduler')),
    },
    memberActor,
  };
}

export type Services = ReturnType<typeof createServices>;
export type { Actor };
