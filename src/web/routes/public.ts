/**
 * The public page of a partnership: the aims the coordinator has published, for residents, with no sign-in.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';

export function registerPublicRoutes(app: FastifyInstance, services: Services): void {
  void app;
  void services;
}
