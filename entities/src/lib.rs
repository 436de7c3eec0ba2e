//! SeaORM entities of the ASK and Sketch2BIM head schemas.
