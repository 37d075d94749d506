/**
 * The county view: the partnerships a person holds roles in, side by side.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';

export function registerCountyRoutes(app: FastifyInstance, services: Services): void {
  void app;
  void services;
}
