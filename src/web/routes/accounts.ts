/**
 * People and accounts: the coordinator's people and outbox pages; accepting an invitation;
 * forgotten and changed passwords; your account and "sign out everywhere". Thin: each page asks a
 * service, which checks the permission again on every read and write.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import { ROLES, ROLE_LABELS } from '../../domain/permissions.js';
import { planYearSlug } from '../../domain/quarters.js';
import { InvalidLinkError, type Links } from '../../services/accounts.js';
import { ConflictError, ForbiddenError, ValidationError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import { nextRetryAt } from '../../services/mail.js';
import { partnershipContext } from '../context.js';
import { formBody, formErrors } from '../forms.js';
import { textHelpers } from '../render.js';

type Slug = { slug: string };
type SlugId = { slug: string; id: string };

function roleWords(role: keyof typeof ROLE_LABELS): string {
  return ROLE_LABELS[role].toLowerCase();
}

function id(value: string): number {
  return /^\d{1,9}$/.test(value) ? Number(value) : 0;
}

function invalidLink(reply: FastifyReply, error: InvalidLinkError) {
  reply.code(404);
  return reply.page('accounts/link-invalid.njk', {
    title: error.message,
    kind: error.kind,
  });
}

export function registerAccountRoutes(app: FastifyInstance, services: Services, config: Config): void {
  if (config.production && !config.publicUrl) {
    app.log.warn('PUBLIC_URL is not set: links in emails use the address each request came to');
  }
  const links = (request: FastifyRequest): Links => ({
    baseUrl: config.publicUrl ?? `${request.protocol}://${request.host}`,
  });
  // Hand over email still being sent before the database closes.
  app.addHook('onClose', async () => {
    await services.mailer.drain();
    services.mailer.close();
  });

  /** A coordinator's page: the partnership, the member, and the plan's address for the navigation. */
  const peoplePage = async (request: FastifyRequest, slug: string) => {
    const context = await partnershipContext(services, request, slug);
    const year = context.member
      ? await services.plans.currentPlanYear(context.actor, context.partnership)
      : undefined;
    const base = year ? `/p/${context.partnership.slug}/plans/${planYearSlug(year)}` : undefined;
    const people = `/p/${context.partnership.slug}/people`;
    return {
      ...context,
      people,
      common: { partnership: context.partnership, member: context.member, base, people },
    };
  };

  /** The role radios and the organisation and person selects, with what was chosen. */
  const memberFields = async (
    page: Awaited<ReturnType<typeof peoplePage>>,
    values: Record<string, string>,
  ) => {
    const options = await services.accounts.memberFormOptions(page.actor, page.partnership.id);
    const none = (chosen: string | undefined) => ({ value: '', text: 'None', selected: !chosen });
    return {
      fields: {
        roles: ROLES.map((role) => ({ value: role, text: ROLE_LABELS[role], checked: values.role === role })),
        organisations: [
          none(values.organisation),
          ...options.organisations.map((o) => ({
            value: String(o.id),
            text: o.name,
            selected: values.organisation === String(o.id),
          })),
        ],
        people: [
          none(values.person),
          ...options.people.map((p) => ({
            value: String(p.id),
            text: p.name,
            selected: values.person === String(p.id),
          })),
        ],
      },
    };
  };

  // ——— People ———
  app.get<{ Params: Slug }>('/p/:slug/people', async (request, reply) => {
    const page = await peoplePage(request, request.params.slug);
    const { members, invitations } = await services.accounts.listPeople(page.actor, page.partnership.id);
    return reply.page('accounts/people.njk', {
      ...page.common,
      title: 'People',
      nav: 'people',
      members,
      invitations,
      roleLabels: ROLE_LABELS,
    });
  });

  app.get<{ Params: Slug }>('/p/:slug/people/invite', async (request, reply) => {
    const page = await peoplePage(request, request.params.slug);
    return reply.page('accounts/invite.njk', {
      ...page.common,
      ...(await memberFields(page, {})),
      title: 'Invite someone',
      nav: 'people',
      values: {},
    });
  });

  app.post<{ Params: Slug }>('/p/:slug/people/invite', async (request, reply) => {
    const page = await peoplePage(request, request.params.slug);
    const values = formBody(request.body);
    try {
      const result = await services.accounts.inviteMember(
        page.actor,
        page.partnership.id,
        values,
        links(request),
      );
      reply.flash(
        result.delivery === 'failed'
          ? `The invitation to ${result.email} was saved, but the email could not be sent. The outbox shows why.`
          : result.delivery === 'outbox'
            ? `An invitation for ${result.email} is in the outbox. Send them the link from there.`
            : `An invitation has been sent to ${result.email}`,
      );
      return reply.redirect(page.people, 303);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      reply.code(400);
      return reply.page('accounts/invite.njk', {
        ...page.common,
        ...(await memberFields(page, values)),
        title: 'Invite someone',
        nav: 'people',
        values,
        ...formErrors(error.problems),
      });
    }
  });

  app.post<{ Params: SlugId }>('/p/:slug/invitations/:id/revoke', async (request, reply) => {
    const page = await peoplePage(request, request.params.slug);
    try {
      const { email } = await services.accounts.revokeInvitation(
        page.actor,
        page.partnership.id,
        id(request.params.id),
      );
      reply.flash(`The invitation to ${email} has been withdrawn: its link no longer works`);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      reply.flash(error.problems[0]?.message);
    }
    return reply.redirect(page.people, 303);
  });

  app.get<{ Params: SlugId }>('/p/:slug/people/:id/role', async (request, reply) => {
    const page = await peoplePage(request, request.params.slug);
    const person = await services.accounts.getMembership(
      page.actor,
      page.partnership.id,
      id(request.params.id),
    );
    const values = {
      role: person.role,
      organisation: person.organisationId ? String(person.organisationId) : '',
      person: person.personId ? String(person.personId) : '',
      reviewsUpdates: person.reviewsUpdates ? 'yes' : '',
      version: String(person.version),
    };
    return reply.page('accounts/role.njk', {
      ...page.common,
      ...(await memberFields(page, values)),
      title: `Change ${person.name}’s role`,
      nav: 'people',
      person,
      values,
    });
  });

  app.post<{ Params: SlugId }>('/p/:slug/people/:id/role', async (request, reply) => {
    const page = await peoplePage(request, request.params.slug);
    const membershipId = id(request.params.id);
    const person = await services.accounts.getMembership(page.actor, page.partnership.id, membershipId);
    const values = formBody(request.body);
    const again = async (status: number, extra: object, shown = values) => {
      reply.code(status);
      return reply.page('accounts/role.njk', {
        ...page.common,
        ...(await memberFields(page, shown)),
        title: `Change ${person.name}’s role`,
        nav: 'people',
        person,
        values: shown,
        ...extra,
      });
    };
    try {
      const result = await services.accounts.changeRole(
        page.actor,
        page.partnership.id,
        membershipId,
        values,
      );
      reply.flash(
        `${result.name} is now a ${roleWords(result.role)}${
          result.reviewsUpdates ? ' who reviews quarterly updates' : ''
        }`,
      );
      return reply.redirect(page.people, 303);
    } catch (error) {
      if (error instanceof ValidationError) return again(400, formErrors(error.problems));
      if (error instanceof ConflictError) {
        return again(409, { conflict: true }, { ...values, version: String(person.version) });
      }
      throw error;
    }
  });

  for (const action of ['deactivate', 'reactivate'] as const) {
    const title = (name: string) => (action === 'deactivate' ? `Deactivate ${name}?` : `Reactivate ${name}?`);

    app.get<{ Params: SlugId }>(`/p/:slug/people/:id/${action}`, async (request, reply) => {
      const page = await peoplePage(request, request.params.slug);
      const person = await services.accounts.getMembership(
        page.actor,
        page.partnership.id,
        id(request.params.id),
      );
      return reply.page('accounts/confirm-member.njk', {
        ...page.common,
        title: title(person.name),
        nav: 'people',
        action,
        person,
        roleLabels: ROLE_LABELS,
        self: person.userId === request.user?.id,
      });
    });

    app.post<{ Params: SlugId }>(`/p/:slug/people/:id/${action}`, async (request, reply) => {
      const page = await peoplePage(request, request.params.slug);
      const membershipId = id(request.params.id);
      const values = formBody(request.body);
      try {
        if (action === 'deactivate') {
          const { name, userId, sessionsEnded } = await services.accounts.deactivateMember(
            page.actor,
            page.partnership.id,
            membershipId,
            values,
          );
          // Their sessions are gone from the store; this one must not be saved back.
          if (sessionsEnded && userId === request.user?.id) await request.session.regenerate();
          reply.flash(`${name} has been deactivated: they can no longer use this partnership’s plan`);
        } else {
          const { name } = await services.accounts.reactivateMember(
            page.actor,
            page.partnership.id,
            membershipId,
            values,
          );
          reply.flash(`${name} has been reactivated`);
        }
        // Deactivating yourself (allowed when another coordinator remains) leaves nothing to see here.
        const stillCoordinator = request.user
          ? (await services.users.getMember(request.user.id, page.partnership.id))?.role === 'coordinator'
          : false;
        return reply.redirect(stillCoordinator ? page.people : '/', 303);
      } catch (error) {
        if (!(error instanceof ValidationError || error instanceof ConflictError)) throw error;
        const person = await services.accounts.getMembership(page.actor, page.partnership.id, membershipId);
        reply.code(error instanceof ConflictError ? 409 : 400);
        return reply.page('accounts/confirm-member.njk', {
          ...page.common,
          title: title(person.name),
          nav: 'people',
          action,
          person,
          roleLabels: ROLE_LABELS,
          self: person.userId === request.user?.id,
          conflict: error instanceof ConflictError,
          // The page's only control is its button: the error summary links there.
          ...(error instanceof ValidationError
            ? formErrors(error.problems.map((p) => ({ ...p, field: 'confirm' })))
            : {}),
        });
      }
    });
  }

  // ——— Outbox ———
  app.get<{ Params: Slug }>('/p/:slug/outbox', async (request, reply) => {
    const page = await peoplePage(request, request.params.slug);
    const emails = await services.accounts.listOutbox(page.actor, page.partnership.id);
    // The scheduler retries failed email; with it switched off here, say nothing of a next try.
    const retries = config.remindersEveryMinutes > 0;
    return reply.page('accounts/outbox.njk', {
      ...page.common,
      title: 'Outbox',
      nav: 'outbox',
      emails: emails.map((e) => ({
        ...e,
        tries: e.attempts === 1 ? 'once' : `${e.attempts} times`,
        nextTryAt: retries ? nextRetryAt(e) : undefined,
      })),
      smtp: services.mailer.transport === 'smtp',
      fmt: textHelpers([]),
    });
  });

  // ——— Accepting an invitation ———
  const acceptPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    token: string,
    extra: Record<string, unknown> = {},
  ) => {
    const invitation = await services.accounts.openInvitation(token);
    const signedInAs = request.user;
    return reply.page('accounts/accept.njk', {
      title: `Join ${invitation.partnershipName}`,
      invitation,
      roleWords: roleWords(invitation.role),
      signedInAsInvited: signedInAs?.email === invitation.email,
      signedInAsOther: signedInAs !== undefined && signedInAs.email !== invitation.email,
      values: { name: invitation.name },
      ...extra,
    });
  };

  app.get<{ Params: { token: string } }>('/invitations/:token', async (request, reply) => {
    try {
      return await acceptPage(request, reply, request.params.token);
    } catch (error) {
      if (error instanceof InvalidLinkError) return invalidLink(reply, error);
      throw error;
    }
  });

  app.post<{ Params: { token: string } }>(
    '/invitations/:token',
    { config: { rateLimit: { max: 30, timeWindow: '1 minute' } } },
    async (request, reply) => {
      const values = formBody(request.body);
      const token = request.params.token;
      try {
        const result = await services.accounts.acceptInvitation(token, {
          name: values.name,
          password: values.password,
          signedInUserId: request.user?.id,
        });
        if (request.user?.id !== result.user.id) {
          await request.session.regenerate();
          request.session.userId = result.user.id;
          await services.users.recordSignIn(result.user, 'signed-in');
        }
        reply.flash(`You have joined as a ${roleWords(result.role)}`);
        return reply.redirect(`/p/${result.partnershipSlug}`, 303);
      } catch (error) {
        if (error instanceof InvalidLinkError) return invalidLink(reply, error);
        if (!(error instanceof ValidationError)) throw error;
        reply.code(400);
        try {
          return await acceptPage(request, reply, token, {
            values: { name: values.name ?? '' },
            ...formErrors(error.problems),
          });
        } catch (again) {
          if (again instanceof InvalidLinkError) return invalidLink(reply, again);
          throw again;
        }
      }
    },
  );

  // ——— Forgotten password ———
  app.get('/forgot-password', async (request, reply) => {
    return reply.page('accounts/forgot-password.njk', { title: 'Reset your password', values: {} });
  });

  app.post(
    '/forgot-password',
    { config: { rateLimit: { max: 10, timeWindow: '1 minute' } } },
    async (request, reply) => {
      const values = formBody(request.body);
      try {
        await services.accounts.requestPasswordReset({ email: values.email }, links(request));
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        reply.code(400);
        return reply.page('accounts/forgot-password.njk', {
          title: 'Reset your password',
          values,
          ...formErrors(error.problems),
        });
      }
      // The same page whether or not the address has an account.
      return reply.page('accounts/forgot-password-sent.njk', {
        title: 'Check your email',
        email: values.email?.trim(),
      });
    },
  );

  app.get<{ Params: { token: string } }>('/reset-password/:token', async (request, reply) => {
    try {
      const reset = await services.accounts.openPasswordReset(request.params.token);
      return await reply.page('accounts/reset-password.njk', { title: 'Choose a new password', reset });
    } catch (error) {
      if (error instanceof InvalidLinkError) return invalidLink(reply, error);
      throw error;
    }
  });

  app.post<{ Params: { token: string } }>(
    '/reset-password/:token',
    { config: { rateLimit: { max: 30, timeWindow: '1 minute' } } },
    async (request, reply) => {
      const values = formBody(request.body);
      const token = request.params.token;
      try {
        const { email } = await services.accounts.resetPassword(token, { password: values.password });
        // Every session of the account has ended, this one too if it was theirs.
        if (!request.user || request.user.email === email) await request.session.regenerate();
        reply.flash('Your password has been changed. Sign in with your new password.');
        return reply.redirect('/sign-in', 303);
      } catch (error) {
        if (error instanceof InvalidLinkError) return invalidLink(reply, error);
        if (!(error instanceof ValidationError)) throw error;
        try {
          const reset = await services.accounts.openPasswordReset(token);
          reply.code(400);
          return await reply.page('accounts/reset-password.njk', {
            title: 'Choose a new password',
            reset,
            ...formErrors(error.problems),
          });
        } catch (again) {
          if (again instanceof InvalidLinkError) return invalidLink(reply, again);
          throw again;
        }
      }
    },
  );

  // ——— Your account ———
  const signedIn = (request: FastifyRequest) => {
    if (!request.user) throw new ForbiddenError('Sign in to see your account');
    return request.user;
  };

  app.get('/account', async (request, reply) => {
    const account = await services.accounts.getAccount(signedIn(request).id);
    return reply.page('accounts/account.njk', { title: 'Your account', account, roleLabels: ROLE_LABELS });
  });

  app.get('/account/password', async (request, reply) => {
    signedIn(request);
    return reply.page('accounts/change-password.njk', { title: 'Change your password' });
  });

  app.post('/account/password', async (request, reply) => {
    const user = signedIn(request);
    const values = formBody(request.body);
    try {
      await services.accounts.changePassword(
        user.id,
        { current: values.current, password: values.password },
        request.session.sessionId,
      );
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      reply.code(400);
      return reply.page('accounts/change-password.njk', {
        title: 'Change your password',
        ...formErrors(error.problems),
      });
    }
    reply.flash('Your password has been changed. You have been signed out on every other device.');
    return reply.redirect('/account', 303);
  });

  app.post('/account/sign-out-everywhere', async (request, reply) => {
    const user = signedIn(request);
    await services.accounts.signOutEverywhere(user.id);
    // The store has forgotten this session too; a fresh one carries the message.
    await request.session.regenerate();
    reply.flash('You have been signed out on every device, including this one.');
    return reply.redirect('/sign-in', 303);
  });
}
