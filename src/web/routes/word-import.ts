/**
 * Importing a Word action plan: read its tables, preview and correct, then save.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';

export function registerWordImportRoutes(app: FastifyInstance, services: Services): void {
  void app;
  void services;
}
