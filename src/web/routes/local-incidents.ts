/** Evidence: fly-tipping and graffiti counts from a council CSV, and DEFRA's fly-tipping table. */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';

export function registerLocalIncidentRoutes(_app: FastifyInstance, _services: Services): void {}
