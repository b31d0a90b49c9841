// Booting Strapi and creating a database take seconds; a backup or restore of a seeded app more.
jest.setTimeout(180_000);
