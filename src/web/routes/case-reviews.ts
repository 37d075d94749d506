/** Evidence: ASB case reviews (the Community Trigger): the register and its annual figures. */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';

export function registerCaseReviewRoutes(_app: FastifyInstance, _services: Services): void {}
